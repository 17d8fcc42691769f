using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Unet;

/// <summary>
/// diffusers <c>Downsample2D</c> with a convolution: a 3×3 stride-2 <c>conv</c>, (B, C, H, W) → (B, Cout, ⌈H/2⌉, ⌈W/2⌉).
/// Padding 1 (the UNet) pads symmetrically; padding 0 (the VAE encoder) first pads one pixel right and bottom.
/// </summary>
public sealed class Downsample2D : Module<Tensor, Tensor>
{
    public readonly Conv2d conv;

    private readonly int _padding;

    public Downsample2D(int channels, int outChannels, int padding, Device? device = null, ScalarType? dtype = null)
        : base(nameof(Downsample2D))
    {
        _padding = padding;
        conv = Conv2d(channels, outChannels, 3, stride: 2, padding: padding, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (_padding != 0) return conv.call(input);
        using var padded = functional.pad(input, [0, 1, 0, 1]);
        return conv.call(padded);
    }
}
