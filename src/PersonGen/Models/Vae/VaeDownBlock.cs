using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Vae;

/// <summary>
/// diffusers <c>DownEncoderBlock2D</c>: <c>resnets</c> then an optional stride-2 <c>downsamplers.0</c>.
/// (B, Cin, H, W) → (B, Cout, H/2, W/2), or (B, Cout, H, W) for the last block.
/// </summary>
internal sealed class VaeDownBlock : Module<Tensor, Tensor>
{
    private readonly ModuleList<VaeResnetBlock> resnets;
    private readonly ModuleList<VaeDownsample> downsamplers;

    public VaeDownBlock(long inChannels, long outChannels, int layers, bool downsample, long groups, double eps)
        : base(nameof(VaeDownBlock))
    {
        resnets = new ModuleList<VaeResnetBlock>();
        for (int i = 0; i < layers; i++) resnets.Add(new VaeResnetBlock(i == 0 ? inChannels : outChannels, outChannels, groups, eps));
        downsamplers = new ModuleList<VaeDownsample>();
        if (downsample) downsamplers.Add(new VaeDownsample(outChannels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var hidden = input;
        foreach (var resnet in resnets) hidden = resnet.call(hidden);
        foreach (var downsampler in downsamplers) hidden = downsampler.call(hidden);
        return hidden.MoveToOuterDisposeScope();
    }
}
