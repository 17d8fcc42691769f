using PersonGen.Models.Attention;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using AttentionLayer = PersonGen.Models.Attention.Attention;

namespace PersonGen.Models.Unet;

/// <summary>
/// diffusers <c>BasicTransformerBlock</c> (layer_norm, GEGLU): x += attn1(norm1(x)); x += attn2(norm2(x), text);
/// x += ff(norm3(x)). Tokens (B, H·W, C) with text (B, L, D) → (B, H·W, C).
/// </summary>
public sealed class BasicTransformerBlock : Module
{
    public readonly LayerNorm norm1;
    public readonly AttentionLayer attn1;
    public readonly LayerNorm norm2;
    public readonly AttentionLayer attn2;
    public readonly LayerNorm norm3;
    public readonly FeedForward ff;

    /// <param name="dim">Channels C = heads·headDim.</param>
    /// <param name="heads">Attention heads of both attention layers.</param>
    /// <param name="crossAttentionDim">Channels D of the text hidden states.</param>
    /// <param name="upcastAttention">Softmax in float32 for half-precision models.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public BasicTransformerBlock(int dim, int heads, int crossAttentionDim, bool upcastAttention,
        Device? device = null, ScalarType? dtype = null)
        : base(nameof(BasicTransformerBlock))
    {
        int headDim = dim / heads;
        norm1 = LayerNorm(dim, 1e-5, device: device, dtype: dtype);
        attn1 = new AttentionLayer(new AttentionConfig(dim, heads, headDim, UpcastAttention: upcastAttention),
            device: device, dtype: dtype);
        norm2 = LayerNorm(dim, 1e-5, device: device, dtype: dtype);
        attn2 = new AttentionLayer(
            new AttentionConfig(dim, heads, headDim, CrossAttentionDim: crossAttentionDim, UpcastAttention: upcastAttention),
            device: device, dtype: dtype);
        norm3 = LayerNorm(dim, 1e-5, device: device, dtype: dtype);
        ff = new FeedForward(dim, device, dtype);
        RegisterComponents();
    }

    /// <summary>Tokens (B, height·width, C), text (B, L, D) → (B, height·width, C).</summary>
    public Tensor forward(Tensor tokens, Tensor encoderHiddenStates, int height, int width)
    {
        using var scope = NewDisposeScope();
        var hidden = tokens + attn1.forward(norm1.call(tokens), null, height, width);
        hidden = hidden + attn2.forward(norm2.call(hidden), encoderHiddenStates, height, width);
        hidden = hidden + ff.call(norm3.call(hidden));
        return hidden.MoveToOuterDisposeScope();
    }
}
