using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Vae;

/// <summary>
/// diffusers <c>ResnetBlock2D</c> without a time embedding, as the VAE uses it:
/// x + conv2(silu(norm2(conv1(silu(norm1(x)))))), with a 1×1 <c>conv_shortcut</c> when the channel count changes.
/// Input (B, Cin, H, W) → output (B, Cout, H, W).
/// </summary>
internal sealed class VaeResnetBlock : Module<Tensor, Tensor>
{
    // Field names are the checkpoint keys (diffusers ResnetBlock2D).
    private readonly GroupNorm norm1;
    private readonly Conv2d conv1;
    private readonly GroupNorm norm2;
    private readonly Conv2d conv2;
    private readonly Conv2d? conv_shortcut;

    public VaeResnetBlock(long inChannels, long outChannels, long groups, double eps) : base(nameof(VaeResnetBlock))
    {
        norm1 = GroupNorms.Create((int)groups, (int)inChannels, eps, null, null);
        conv1 = Conv2d(inChannels, outChannels, 3, padding: 1);
        norm2 = GroupNorms.Create((int)groups, (int)outChannels, eps, null, null);
        conv2 = Conv2d(outChannels, outChannels, 3, padding: 1);
        if (inChannels != outChannels) conv_shortcut = Conv2d(inChannels, outChannels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var hidden = conv1.call(functional.silu(norm1.call(input)));
        hidden = conv2.call(functional.silu(norm2.call(hidden)));
        var shortcut = conv_shortcut is null ? input : conv_shortcut.call(input);
        return (shortcut + hidden).MoveToOuterDisposeScope();
    }
}
