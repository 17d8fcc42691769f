using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Unet;

/// <summary>
/// diffusers <c>Transformer2DModel</c> for continuous inputs: GroupNorm (eps 1e-6) → <c>proj_in</c> (Linear when
/// use_linear_projection, else a 1×1 conv) → transformer blocks over the H·W tokens → <c>proj_out</c> → + input.
/// Image (B, C, H, W) and text (B, L, D) → (B, C, H, W).
/// </summary>
public sealed class Transformer2DModel : Module<Tensor, Tensor, Tensor>
{
    public readonly GroupNorm norm;
    public readonly Module<Tensor, Tensor> proj_in;
    public readonly ModuleList<BasicTransformerBlock> transformer_blocks;
    public readonly Module<Tensor, Tensor> proj_out;

    private readonly bool _linearProjection;

    /// <param name="channels">Channels C (= heads·headDim).</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="layers">Number of transformer blocks.</param>
    /// <param name="crossAttentionDim">Channels D of the text hidden states.</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="useLinearProjection">Linear proj_in/proj_out (SD 2) instead of 1×1 convolutions (SD 1).</param>
    /// <param name="upcastAttention">Softmax in float32 for half-precision models.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public Transformer2DModel(int channels, int heads, int layers, int crossAttentionDim, int groups,
        bool useLinearProjection, bool upcastAttention, Device? device = null, ScalarType? dtype = null)
        : base(nameof(Transformer2DModel))
    {
        _linearProjection = useLinearProjection;
        norm = GroupNorms.Create(groups, channels, 1e-6, device, dtype);
        proj_in = Projection(channels, useLinearProjection, device, dtype);
        transformer_blocks = new ModuleList<BasicTransformerBlock>(Enumerable.Range(0, layers)
            .Select(_ => new BasicTransformerBlock(channels, heads, crossAttentionDim, upcastAttention, device, dtype))
            .ToArray());
        proj_out = Projection(channels, useLinearProjection, device, dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor image, Tensor encoderHiddenStates)
    {
        using var scope = NewDisposeScope();
        long batch = image.shape[0], channels = image.shape[1];
        int height = (int)image.shape[2], width = (int)image.shape[3];
        var hidden = norm.call(image);
        // (B, C, H, W) → (B, H·W, C), projecting before the reshape for convs and after it for linears.
        hidden = _linearProjection
            ? proj_in.call(ToTokens(hidden))
            : ToTokens(proj_in.call(hidden));
        foreach (var block in transformer_blocks) hidden = block.forward(hidden, encoderHiddenStates, height, width);
        hidden = _linearProjection
            ? ToImage(proj_out.call(hidden))
            : proj_out.call(ToImage(hidden));
        return (hidden + image).MoveToOuterDisposeScope();

        Tensor ToTokens(Tensor x) => x.permute(0, 2, 3, 1).reshape(batch, (long)height * width, channels); // (B, HW, C)
        Tensor ToImage(Tensor x) => x.reshape(batch, height, width, channels).permute(0, 3, 1, 2);          // (B, C, H, W)
    }

    private static Module<Tensor, Tensor> Projection(int channels, bool linear, Device? device, ScalarType? dtype) =>
        linear
            ? Linear(channels, channels, device: device, dtype: dtype)
            : Conv2d(channels, channels, 1, stride: 1, padding: 0L, device: device, dtype: dtype);
}
