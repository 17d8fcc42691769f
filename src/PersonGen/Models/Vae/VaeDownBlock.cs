using PersonGen.Models.Unet;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Vae;

/// <summary>
/// diffusers <c>DownEncoderBlock2D</c>: <c>resnets</c> then an optional stride-2 <c>downsamplers.0</c> with the
/// asymmetric padding the LDM VAE was trained with. (B, Cin, H, W) → (B, Cout, H/2, W/2), or (B, Cout, H, W) for the last block.
/// </summary>
internal sealed class VaeDownBlock : Module<Tensor, Tensor>
{
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<Downsample2D> downsamplers;

    public VaeDownBlock(int inChannels, int outChannels, int layers, bool downsample, int groups, double eps,
        Device? device, ScalarType? dtype)
        : base(nameof(VaeDownBlock))
    {
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, layers)
            .Select(i => new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, null, groups, eps, device: device, dtype: dtype))
            .ToArray());
        downsamplers = new ModuleList<Downsample2D>(downsample ? [new Downsample2D(outChannels, outChannels, padding: 0, device, dtype)] : []);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var hidden = input;
        foreach (var resnet in resnets) hidden = resnet.call(hidden, null);
        foreach (var downsampler in downsamplers) hidden = downsampler.call(hidden);
        return hidden.MoveToOuterDisposeScope();
    }
}
