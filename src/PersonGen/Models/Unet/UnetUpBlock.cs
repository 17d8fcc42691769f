using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Unet;

/// <summary>
/// One up block: diffusers <c>CrossAttnUpBlock2D</c> or <c>UpBlock2D</c> (no <c>attentions</c>). Each ResNet takes the
/// hidden state concatenated with one skip connection (popped last-in first-out); an optional
/// <c>upsamplers.0</c> doubles the resolution. (B, Cprev, H, W) → (B, Cout, 2H, 2W).
/// </summary>
public sealed class UnetUpBlock : Module
{
    // Field order is state-dict order: attentions, resnets, upsamplers.
    public readonly ModuleList<Transformer2DModel> attentions;
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<Upsample2D> upsamplers;

    internal UnetUpBlock(UnetConfig config, int index, Device? device, ScalarType? dtype) : base(nameof(UnetUpBlock))
    {
        int count = config.BlockCount;
        int down = count - 1 - index; // the down block this one mirrors
        int channels = config.BlockOutChannels[down];
        int previousChannels = config.BlockOutChannels[Math.Min(down + 1, count - 1)];
        int skipInputChannels = config.BlockOutChannels[Math.Max(down - 1, 0)];
        int layers = config.LayersPerBlock[down] + 1;
        int groups = config.NormNumGroups!.Value;
        bool crossAttention = config.UpBlockTypes[index] == "CrossAttnUpBlock2D";
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, layers)
            .Select(i => new ResnetBlock2D(
                (i == 0 ? previousChannels : channels) + (i == layers - 1 ? skipInputChannels : channels),
                channels, config.TimeEmbedDim, groups, config.NormEps, device: device, dtype: dtype))
            .ToArray());
        attentions = new ModuleList<Transformer2DModel>(crossAttention
            ? Enumerable.Range(0, layers)
                .Select(_ => new Transformer2DModel(channels, config.HeadCounts[down], config.TransformerLayersPerBlock[down],
                    config.CrossAttentionDim[0], groups, config.UseLinearProjection, config.UpcastAttention, device, dtype))
                .ToArray()
            : []);
        upsamplers = new ModuleList<Upsample2D>(index < count - 1 ? [new Upsample2D(channels, channels, device, dtype)] : []);
        RegisterComponents();
    }

    /// <summary>
    /// Runs the block, consuming <see cref="resnets"/>.Count skips from the end of <paramref name="skips"/>; the
    /// upsampler (if any) targets the spatial size of the next skip, i.e. ×2 for even sizes.
    /// </summary>
    public Tensor forward(Tensor hidden, Tensor timeEmbedding, Tensor encoderHiddenStates, List<Tensor> skips)
    {
        for (int i = 0; i < resnets.Count; i++)
        {
            var skip = skips[^1];
            skips.RemoveAt(skips.Count - 1);
            hidden = resnets[i].call(cat([hidden, skip], 1), timeEmbedding); // (B, Chidden + Cskip, H, W) in
            if (attentions.Count > 0) hidden = attentions[i].call(hidden, encoderHiddenStates);
        }
        foreach (var upsampler in upsamplers)
        {
            var target = skips.Count > 0 ? skips[^1].shape : [0, 0, hidden.shape[2] * 2, hidden.shape[3] * 2];
            hidden = upsampler.forward(hidden, target[2], target[3]);
        }
        return hidden;
    }
}
