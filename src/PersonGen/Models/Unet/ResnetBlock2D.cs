using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Unet;

/// <summary>
/// diffusers <c>ResnetBlock2D</c> (time-scale-shift "default", SiLU): GroupNorm → SiLU → conv1 (+ projected time
/// embedding) → GroupNorm → SiLU → conv2, plus a 1×1 <c>conv_shortcut</c> when the channel count changes.
/// (B, Cin, H, W) and time embedding (B, T) or null → (B, Cout, H, W). The VAE uses it without a time embedding.
/// </summary>
public sealed class ResnetBlock2D : Module<Tensor, Tensor?, Tensor>
{
    // Field order is state-dict order.
    public readonly GroupNorm norm1;
    public readonly Conv2d conv1;
    public readonly Linear? time_emb_proj;
    public readonly GroupNorm norm2;
    public readonly Dropout dropout;
    public readonly Conv2d conv2;
    public readonly Conv2d? conv_shortcut;

    private readonly double _outputScaleFactor;

    /// <param name="inChannels">Input channels Cin.</param>
    /// <param name="outChannels">Output channels Cout.</param>
    /// <param name="timeEmbedChannels">Width T of the time embedding, or null for a block without one.</param>
    /// <param name="groups">GroupNorm groups of both norms.</param>
    /// <param name="eps">GroupNorm epsilon.</param>
    /// <param name="outputScaleFactor">The sum with the shortcut is divided by this.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public ResnetBlock2D(int inChannels, int outChannels, int? timeEmbedChannels, int groups, double eps,
        double outputScaleFactor = 1.0, Device? device = null, ScalarType? dtype = null)
        : base(nameof(ResnetBlock2D))
    {
        norm1 = GroupNorms.Create(groups, inChannels, eps, device, dtype);
        conv1 = Conv2d(inChannels, outChannels, 3, stride: 1, padding: 1, device: device, dtype: dtype);
        if (timeEmbedChannels is { } timeChannels)
            time_emb_proj = Linear(timeChannels, outChannels, device: device, dtype: dtype);
        norm2 = GroupNorms.Create(groups, outChannels, eps, device, dtype);
        dropout = Dropout(0.0);
        conv2 = Conv2d(outChannels, outChannels, 3, stride: 1, padding: 1, device: device, dtype: dtype);
        if (inChannels != outChannels)
            conv_shortcut = Conv2d(inChannels, outChannels, 1, stride: 1, padding: 0L, device: device, dtype: dtype);
        _outputScaleFactor = outputScaleFactor;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input, Tensor? timeEmbedding)
    {
        using var scope = NewDisposeScope();
        var hidden = conv1.call(functional.silu(norm1.call(input)));
        if (time_emb_proj is not null && timeEmbedding is not null)
        {
            var time = time_emb_proj.call(functional.silu(timeEmbedding)); // (B, Cout)
            hidden = hidden + time.unsqueeze(-1).unsqueeze(-1);            // (B, Cout, 1, 1) broadcast
        }
        hidden = conv2.call(dropout.call(functional.silu(norm2.call(hidden))));
        var shortcut = conv_shortcut is null ? input : conv_shortcut.call(input);
        var output = shortcut + hidden;
        if (_outputScaleFactor != 1.0) output = output.div_(_outputScaleFactor);
        return output.MoveToOuterDisposeScope();
    }
}
