using PersonGen.Models.Attention;
using PersonGen.Models.Unet;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using AttentionLayer = PersonGen.Models.Attention.Attention;

namespace PersonGen.Models.Vae;

/// <summary>
/// diffusers <c>UNetMidBlock2D</c> without time embedding: resnet, single-head spatial self-attention (with
/// <c>group_norm</c> and a residual connection), resnet. (B, C, H, W) → same.
/// </summary>
internal sealed class VaeMidBlock : Module<Tensor, Tensor>
{
    // diffusers registers attentions before resnets: the state-dict order follows.
    private readonly ModuleList<AttentionLayer> attentions;
    private readonly ModuleList<ResnetBlock2D> resnets;

    public VaeMidBlock(int channels, int groups, double eps, Device? device, ScalarType? dtype) : base(nameof(VaeMidBlock))
    {
        var attention = new AttentionConfig(channels, Heads: 1, HeadDim: channels, QkvBias: true,
            NormGroups: groups, NormEps: eps, ResidualConnection: true);
        attentions = new ModuleList<AttentionLayer>(new AttentionLayer(attention, device: device, dtype: dtype));
        resnets = new ModuleList<ResnetBlock2D>(
            new ResnetBlock2D(channels, channels, null, groups, eps, device: device, dtype: dtype),
            new ResnetBlock2D(channels, channels, null, groups, eps, device: device, dtype: dtype));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var first = resnets[0].call(input, null);
        using var attended = attentions[0].forward(first);
        return resnets[1].call(attended, null);
    }
}
