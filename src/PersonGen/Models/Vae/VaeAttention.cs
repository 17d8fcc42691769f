using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Vae;

/// <summary>
/// The single-head self-attention of the VAE mid block (diffusers <c>Attention</c> with <c>group_norm</c> and a
/// residual connection): x + to_out(softmax(q kᵀ/√C) v) over the H·W positions of GroupNorm(x).
/// (B, C, H, W) → (B, C, H, W).
/// </summary>
internal sealed class VaeAttention : Module<Tensor, Tensor>
{
    private readonly GroupNorm group_norm;
    private readonly Linear to_q;
    private readonly Linear to_k;
    private readonly Linear to_v;
    private readonly ModuleList<Linear> to_out;

    public VaeAttention(long channels, long groups, double eps) : base(nameof(VaeAttention))
    {
        group_norm = GroupNorms.Create((int)groups, (int)channels, eps, null, null);
        to_q = Linear(channels, channels);
        to_k = Linear(channels, channels);
        to_v = Linear(channels, channels);
        to_out = new ModuleList<Linear>(Linear(channels, channels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        long batch = input.shape[0], channels = input.shape[1], height = input.shape[2], width = input.shape[3];
        // (B, C, H, W) → (B, HW, C): one token per position.
        var tokens = group_norm.call(input).view(batch, channels, height * width).transpose(1, 2);
        // (B, 1, HW, C): a single head over all channels.
        var query = to_q.call(tokens).unsqueeze(1);
        var key = to_k.call(tokens).unsqueeze(1);
        var value = to_v.call(tokens).unsqueeze(1);
        var attended = functional.scaled_dot_product_attention(query, key, value).squeeze(1);
        // (B, HW, C) → (B, C, H, W)
        var output = to_out[0].call(attended).transpose(1, 2).reshape(batch, channels, height, width);
        return (output + input).MoveToOuterDisposeScope();
    }
}
