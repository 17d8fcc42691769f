using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Vae;

/// <summary>diffusers <c>UNetMidBlock2D</c> without time embedding: resnet, attention, resnet. (B, C, H, W) → same.</summary>
internal sealed class VaeMidBlock : Module<Tensor, Tensor>
{
    // diffusers registers attentions before resnets: the state-dict order follows.
    private readonly ModuleList<VaeAttention> attentions;
    private readonly ModuleList<VaeResnetBlock> resnets;

    public VaeMidBlock(long channels, long groups, double eps) : base(nameof(VaeMidBlock))
    {
        attentions = new ModuleList<VaeAttention>(new VaeAttention(channels, groups, eps));
        resnets = new ModuleList<VaeResnetBlock>(
            new VaeResnetBlock(channels, channels, groups, eps),
            new VaeResnetBlock(channels, channels, groups, eps));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var first = resnets[0].call(input);
        using var attended = attentions[0].call(first);
        return resnets[1].call(attended);
    }
}
