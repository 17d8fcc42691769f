using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Vae;

/// <summary>
/// diffusers <c>Upsample2D</c> with a conv: nearest-neighbour ×2, then a 3×3 conv.
/// (B, C, H, W) → (B, C, 2H, 2W).
/// </summary>
internal sealed class VaeUpsample : Module<Tensor, Tensor>
{
    private readonly Conv2d conv;

    public VaeUpsample(long channels) : base(nameof(VaeUpsample))
    {
        conv = Conv2d(channels, channels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        // Upsampling kernels lack bfloat16 on CPU: upsample in float32 like diffusers, then convert back.
        bool upcast = input.dtype == ScalarType.BFloat16;
        using var source = upcast ? input.to_type(ScalarType.Float32) : input.alias();
        using var upsampled = functional.interpolate(source, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
        using var restored = upcast ? upsampled.to_type(ScalarType.BFloat16) : upsampled.alias();
        return conv.call(restored);
    }
}
