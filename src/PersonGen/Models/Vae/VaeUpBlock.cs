using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Vae;

/// <summary>
/// diffusers <c>UpDecoderBlock2D</c>: <c>resnets</c> (one more than the encoder's) then an optional ×2 <c>upsamplers.0</c>.
/// (B, Cin, H, W) → (B, Cout, 2H, 2W), or (B, Cout, H, W) for the last block.
/// </summary>
internal sealed class VaeUpBlock : Module<Tensor, Tensor>
{
    private readonly ModuleList<VaeResnetBlock> resnets;
    private readonly ModuleList<VaeUpsample> upsamplers;

    public VaeUpBlock(long inChannels, long outChannels, int layers, bool upsample, long groups, double eps)
        : base(nameof(VaeUpBlock))
    {
        resnets = new ModuleList<VaeResnetBlock>();
        for (int i = 0; i < layers; i++) resnets.Add(new VaeResnetBlock(i == 0 ? inChannels : outChannels, outChannels, groups, eps));
        upsamplers = new ModuleList<VaeUpsample>();
        if (upsample) upsamplers.Add(new VaeUpsample(outChannels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var hidden = input;
        foreach (var resnet in resnets) hidden = resnet.call(hidden);
        foreach (var upsampler in upsamplers) hidden = upsampler.call(hidden);
        return hidden.MoveToOuterDisposeScope();
    }
}
