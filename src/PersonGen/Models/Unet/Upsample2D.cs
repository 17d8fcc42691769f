using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Unet;

/// <summary>
/// diffusers <c>Upsample2D</c> with a convolution: nearest-neighbour upsampling (×2, or to the size of the matching
/// skip connection) followed by a 3×3 <c>conv</c>. (B, C, H, W) → (B, Cout, 2H, 2W).
/// </summary>
public sealed class Upsample2D : Module<Tensor, Tensor>
{
    public readonly Conv2d conv;

    public Upsample2D(int channels, int outChannels, Device? device = null, ScalarType? dtype = null)
        : base(nameof(Upsample2D))
    {
        conv = Conv2d(channels, outChannels, 3, stride: 1, padding: 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>Upsamples ×2.</summary>
    public override Tensor forward(Tensor input) => forward(input, input.shape[2] * 2, input.shape[3] * 2);

    /// <summary>Upsamples to (<paramref name="height"/>, <paramref name="width"/>), as diffusers does for odd skip sizes.</summary>
    public Tensor forward(Tensor input, long height, long width)
    {
        // Upsampling kernels lack bfloat16 on CPU: upsample in float32 as diffusers does, then convert back.
        bool upcast = input.dtype == ScalarType.BFloat16;
        using var source = upcast ? input.to_type(ScalarType.Float32) : input.alias();
        using var upsampled = functional.interpolate(source, size: [height, width], mode: InterpolationMode.Nearest);
        using var restored = upcast ? upsampled.to_type(ScalarType.BFloat16) : upsampled.alias();
        return conv.call(restored);
    }
}
