using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>transformers' <c>CLIPEncoderLayer</c>: pre-norm attention and MLP, each with a residual. Input and output (B, L, D).</summary>
public sealed class ClipEncoderLayer : nn.Module<Tensor, Tensor?, bool, Tensor>
{
    public ClipAttention self_attn;
    public LayerNorm layer_norm1;
    public ClipMlp mlp;
    public LayerNorm layer_norm2;

    internal ClipEncoderLayer(ClipEncoderShape shape, Device? device, ScalarType? dtype) : base(nameof(ClipEncoderLayer))
    {
        self_attn = new ClipAttention(shape.HiddenSize, shape.Heads, device, dtype);
        layer_norm1 = nn.LayerNorm(shape.HiddenSize, shape.LayerNormEps, device: device, dtype: dtype);
        mlp = new ClipMlp(shape.HiddenSize, shape.IntermediateSize, shape.Activation, device, dtype);
        layer_norm2 = nn.LayerNorm(shape.HiddenSize, shape.LayerNormEps, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <inheritdoc cref="ClipAttention.forward"/>
    public override Tensor forward(Tensor hidden, Tensor? mask, bool causal)
    {
        using var scope = NewDisposeScope();
        var attended = hidden + self_attn.call(layer_norm1.call(hidden), mask, causal);
        return (attended + mlp.call(layer_norm2.call(attended))).MoveToOuterDisposeScope();
    }
}
