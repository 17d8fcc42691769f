using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Unet;

/// <summary>
/// diffusers <c>UNetMidBlock2DCrossAttn</c>: resnets.0 → attentions.0 → resnets.1 at the lowest resolution.
/// (B, C, H, W) → (B, C, H, W).
/// </summary>
public sealed class UnetMidBlock : Module<Tensor, Tensor, Tensor, Tensor>
{
    public readonly ModuleList<Transformer2DModel> attentions;
    public readonly ModuleList<ResnetBlock2D> resnets;

    internal UnetMidBlock(UnetConfig config, Device? device, ScalarType? dtype) : base(nameof(UnetMidBlock))
    {
        int last = config.BlockCount - 1;
        int channels = config.BlockOutChannels[last];
        int groups = config.NormNumGroups!.Value;
        attentions = new ModuleList<Transformer2DModel>(
            new Transformer2DModel(channels, config.HeadCounts[last], config.TransformerLayersPerBlock[last],
                config.CrossAttentionDim[0], groups, config.UseLinearProjection, config.UpcastAttention, device, dtype));
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, 2)
            .Select(_ => new ResnetBlock2D(channels, channels, config.TimeEmbedDim, groups, config.NormEps,
                config.MidBlockScaleFactor, device, dtype))
            .ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden, Tensor timeEmbedding, Tensor encoderHiddenStates)
    {
        hidden = resnets[0].call(hidden, timeEmbedding);
        for (int i = 0; i < attentions.Count; i++)
        {
            hidden = attentions[i].call(hidden, encoderHiddenStates);
            hidden = resnets[i + 1].call(hidden, timeEmbedding);
        }
        return hidden;
    }
}
