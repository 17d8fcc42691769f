using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Vae;

/// <summary>
/// diffusers <c>Encoder</c>: image (B, in_channels, H, W) → moments before <c>quant_conv</c>
/// (B, 2·latent_channels, H/f, W/f) with f = 2^(blocks − 1).
/// </summary>
internal sealed class VaeEncoder : Module<Tensor, Tensor>
{
    // diffusers' Encoder uses eps 1e-6 in every norm.
    private const double Eps = 1e-6;

    private readonly Conv2d conv_in;
    private readonly ModuleList<VaeDownBlock> down_blocks;
    private readonly VaeMidBlock mid_block;
    private readonly GroupNorm conv_norm_out;
    private readonly Conv2d conv_out;

    public VaeEncoder(VaeConfig config) : base(nameof(VaeEncoder))
    {
        int[] channels = config.BlockOutChannels;
        long groups = config.NormNumGroups;
        conv_in = Conv2d(config.InChannels, channels[0], 3, padding: 1);
        down_blocks = new ModuleList<VaeDownBlock>();
        for (int i = 0; i < channels.Length; i++)
        {
            bool isLast = i == channels.Length - 1;
            down_blocks.Add(new VaeDownBlock(i == 0 ? channels[0] : channels[i - 1], channels[i], config.LayersPerBlock, !isLast, groups, Eps));
        }
        mid_block = new VaeMidBlock(channels[^1], groups, Eps);
        conv_norm_out = GroupNorms.Create((int)groups, (int)channels[^1], Eps, null, null);
        conv_out = Conv2d(channels[^1], 2 * config.LatentChannels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor image)
    {
        using var scope = NewDisposeScope();
        var hidden = conv_in.call(image);
        foreach (var block in down_blocks) hidden = block.call(hidden);
        hidden = mid_block.call(hidden);
        hidden = conv_out.call(functional.silu(conv_norm_out.call(hidden)));
        return hidden.MoveToOuterDisposeScope();
    }
}
