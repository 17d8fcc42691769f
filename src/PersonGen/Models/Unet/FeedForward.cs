using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Unet;

/// <summary>
/// diffusers <c>FeedForward</c> with GEGLU: <c>net.0</c> = GEGLU(C → 4C), <c>net.1</c> = dropout, <c>net.2</c> = Linear(4C → C).
/// (B, L, C) → (B, L, C).
/// </summary>
public sealed class FeedForward : Module<Tensor, Tensor>
{
    public readonly ModuleList<Module<Tensor, Tensor>> net;

    public FeedForward(int dim, Device? device = null, ScalarType? dtype = null) : base(nameof(FeedForward))
    {
        int inner = dim * 4;
        net = new ModuleList<Module<Tensor, Tensor>>(
            new GEGLU(dim, inner, device, dtype),
            Dropout(0.0),
            Linear(inner, dim, device: device, dtype: dtype));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var hidden = input;
        foreach (var layer in net) hidden = layer.call(hidden);
        return hidden.MoveToOuterDisposeScope();
    }
}
