using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Unet;

/// <summary>
/// One down block: diffusers <c>CrossAttnDownBlock2D</c> (a Transformer2DModel after each ResNet) or <c>DownBlock2D</c>
/// (no <c>attentions</c>), with an optional stride-2 <c>downsamplers.0</c>. (B, Cin, H, W) → (B, Cout, H/2, W/2);
/// every intermediate output is pushed as a skip connection.
/// </summary>
public sealed class UnetDownBlock : Module
{
    // Field order is state-dict order: attentions, resnets, downsamplers.
    public readonly ModuleList<Transformer2DModel> attentions;
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<Downsample2D> downsamplers;

    internal UnetDownBlock(UnetConfig config, int index, int inChannels, Device? device, ScalarType? dtype)
        : base(nameof(UnetDownBlock))
    {
        int channels = config.BlockOutChannels[index];
        int groups = config.NormNumGroups!.Value;
        int layers = config.LayersPerBlock[index];
        bool crossAttention = config.DownBlockTypes[index] == "CrossAttnDownBlock2D";
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, layers)
            .Select(i => new ResnetBlock2D(i == 0 ? inChannels : channels, channels, config.TimeEmbedDim, groups,
                config.NormEps, device: device, dtype: dtype))
            .ToArray());
        attentions = new ModuleList<Transformer2DModel>(crossAttention
            ? Enumerable.Range(0, layers)
                .Select(_ => new Transformer2DModel(channels, config.HeadCounts[index], config.TransformerLayersPerBlock[index],
                    config.CrossAttentionDim[0], groups, config.UseLinearProjection, config.UpcastAttention, device, dtype))
                .ToArray()
            : []);
        downsamplers = new ModuleList<Downsample2D>(index < config.BlockCount - 1
            ? [new Downsample2D(channels, channels, config.DownsamplePadding, device, dtype)]
            : []);
        RegisterComponents();
    }

    /// <summary>Runs the block on <paramref name="hidden"/> and appends each output to <paramref name="skips"/>.</summary>
    public Tensor forward(Tensor hidden, Tensor timeEmbedding, Tensor encoderHiddenStates, List<Tensor> skips)
    {
        for (int i = 0; i < resnets.Count; i++)
        {
            hidden = resnets[i].call(hidden, timeEmbedding);
            if (attentions.Count > 0) hidden = attentions[i].call(hidden, encoderHiddenStates);
            skips.Add(hidden);
        }
        foreach (var downsampler in downsamplers)
        {
            hidden = downsampler.call(hidden);
            skips.Add(hidden);
        }
        return hidden;
    }
}
