using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Vae;

/// <summary>
/// diffusers <c>Decoder</c>: latents after <c>post_quant_conv</c> (B, latent_channels, h, w) →
/// image (B, out_channels, h·f, w·f) with f = 2^(blocks − 1).
/// </summary>
internal sealed class VaeDecoder : Module<Tensor, Tensor>
{
    private const double Eps = 1e-6;

    // diffusers registers up_blocks before mid_block: the state-dict order follows.
    private readonly Conv2d conv_in;
    private readonly ModuleList<VaeUpBlock> up_blocks;
    private readonly VaeMidBlock mid_block;
    private readonly GroupNorm conv_norm_out;
    private readonly Conv2d conv_out;

    public VaeDecoder(VaeConfig config) : base(nameof(VaeDecoder))
    {
        int[] reversed = config.BlockOutChannels.Reverse().ToArray();
        long groups = config.NormNumGroups;
        conv_in = Conv2d(config.LatentChannels, reversed[0], 3, padding: 1);
        up_blocks = new ModuleList<VaeUpBlock>();
        for (int i = 0; i < reversed.Length; i++)
        {
            bool isLast = i == reversed.Length - 1;
            up_blocks.Add(new VaeUpBlock(i == 0 ? reversed[0] : reversed[i - 1], reversed[i], config.LayersPerBlock + 1, !isLast, groups, Eps));
        }
        mid_block = new VaeMidBlock(reversed[0], groups, Eps);
        conv_norm_out = GroupNorms.Create((int)groups, (int)reversed[^1], Eps, null, null);
        conv_out = Conv2d(reversed[^1], config.OutChannels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor latents)
    {
        using var scope = NewDisposeScope();
        var hidden = conv_in.call(latents);
        hidden = mid_block.call(hidden);
        foreach (var block in up_blocks) hidden = block.call(hidden);
        hidden = conv_out.call(functional.silu(conv_norm_out.call(hidden)));
        return hidden.MoveToOuterDisposeScope();
    }
}
