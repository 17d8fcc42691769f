using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Unet;

/// <summary>diffusers <c>TimestepEmbedding</c>: <c>linear_1</c> → SiLU → <c>linear_2</c>. (B, Din) → (B, T).</summary>
public sealed class TimestepEmbedding : Module<Tensor, Tensor>
{
    public readonly Linear linear_1;
    public readonly Linear linear_2;

    public TimestepEmbedding(int inChannels, int timeEmbedDim, Device? device = null, ScalarType? dtype = null)
        : base(nameof(TimestepEmbedding))
    {
        linear_1 = Linear(inChannels, timeEmbedDim, device: device, dtype: dtype);
        linear_2 = Linear(timeEmbedDim, timeEmbedDim, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var hidden = linear_1.call(input);
        using var activated = functional.silu(hidden);
        return linear_2.call(activated);
    }
}
