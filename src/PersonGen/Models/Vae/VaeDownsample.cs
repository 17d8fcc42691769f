using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Vae;

/// <summary>
/// diffusers <c>Downsample2D</c> with <c>padding=0</c>: pad right and bottom by one, then a stride-2 3×3 conv.
/// (B, C, H, W) → (B, C, H/2, W/2).
/// </summary>
internal sealed class VaeDownsample : Module<Tensor, Tensor>
{
    private readonly Conv2d conv;

    public VaeDownsample(long channels) : base(nameof(VaeDownsample))
    {
        conv = Conv2d(channels, channels, 3, stride: 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        // The asymmetric (0, 1, 0, 1) padding is what the original LDM VAE was trained with.
        using var padded = functional.pad(input, [0, 1, 0, 1], PaddingModes.Constant, 0);
        return conv.call(padded);
    }
}
