using PersonGen.Models.Unet;
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
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<Upsample2D> upsamplers;

    public VaeUpBlock(int inChannels, int outChannels, int layers, bool upsample, int groups, double eps,
        Device? device, ScalarType? dtype)
        : base(nameof(VaeUpBlock))
    {
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, layers)
            .Select(i => new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, null, groups, eps, device: device, dtype: dtype))
            .ToArray());
        upsamplers = new ModuleList<Upsample2D>(upsample ? [new Upsample2D(outChannels, outChannels, device, dtype)] : []);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var hidden = input;
        foreach (var resnet in resnets) hidden = resnet.call(hidden, null);
        foreach (var upsampler in upsamplers) hidden = upsampler.call(hidden);
        return hidden.MoveToOuterDisposeScope();
    }
}
