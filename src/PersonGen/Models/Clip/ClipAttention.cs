using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>
/// transformers' <c>CLIPAttention</c> (multi-head self-attention, keys <c>k_proj</c>, <c>v_proj</c>, <c>q_proj</c>,
/// <c>out_proj</c>) on the scaled-dot-product fast path. Input and output (B, L, D).
/// </summary>
public sealed class ClipAttention : nn.Module<Tensor, Tensor?, bool, Tensor>
{
    private readonly int _heads;

    public Linear k_proj;
    public Linear v_proj;
    public Linear q_proj;
    public Linear out_proj;

    public ClipAttention(int hiddenSize, int heads, Device? device = null, ScalarType? dtype = null) : base(nameof(ClipAttention))
    {
        _heads = heads;
        k_proj = nn.Linear(hiddenSize, hiddenSize, device: device, dtype: dtype);
        v_proj = nn.Linear(hiddenSize, hiddenSize, device: device, dtype: dtype);
        q_proj = nn.Linear(hiddenSize, hiddenSize, device: device, dtype: dtype);
        out_proj = nn.Linear(hiddenSize, hiddenSize, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <param name="hidden">(B, L, D).</param>
    /// <param name="mask">Boolean (B, 1, L, L), true = may attend; null for none.</param>
    /// <param name="causal">Apply the causal mask (only when <paramref name="mask"/> is null; otherwise fold it into the mask).</param>
    public override Tensor forward(Tensor hidden, Tensor? mask, bool causal)
    {
        using var scope = NewDisposeScope();
        long batch = hidden.shape[0], length = hidden.shape[1], width = hidden.shape[2];
        // (B, heads, L, d)
        Tensor Heads(Linear projection) => projection.call(hidden).view(batch, length, _heads, width / _heads).transpose(1, 2);
        var attended = nn.functional.scaled_dot_product_attention(Heads(q_proj), Heads(k_proj), Heads(v_proj),
            attn_mask: mask, is_casual: causal && mask is null);
        // (B, L, D)
        var merged = attended.transpose(1, 2).reshape(batch, length, width);
        return out_proj.call(merged).MoveToOuterDisposeScope();
    }
}
