using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Unet;

/// <summary>diffusers <c>GEGLU</c>: <c>proj</c> to 2·Dout, split into (h, gate), return h·GELU(gate). (…, Din) → (…, Dout).</summary>
public sealed class GEGLU : Module<Tensor, Tensor>
{
    public readonly Linear proj;

    public GEGLU(int inFeatures, int outFeatures, Device? device = null, ScalarType? dtype = null) : base(nameof(GEGLU))
    {
        proj = Linear(inFeatures, outFeatures * 2, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var halves = proj.call(input).chunk(2, -1); // (…, Dout) each: value, gate
        return (halves[0] * functional.gelu(halves[1])).MoveToOuterDisposeScope();
    }
}
