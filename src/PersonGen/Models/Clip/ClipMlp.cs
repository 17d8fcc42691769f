using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>transformers' <c>CLIPMLP</c>: fc1 → activation → fc2. Input and output (B, L, D).</summary>
public sealed class ClipMlp : nn.Module<Tensor, Tensor>
{
    private readonly ClipActivation _activation;

    public Linear fc1;
    public Linear fc2;

    public ClipMlp(int hiddenSize, int intermediateSize, ClipActivation activation, Device? device = null, ScalarType? dtype = null)
        : base(nameof(ClipMlp))
    {
        _activation = activation;
        fc1 = nn.Linear(hiddenSize, intermediateSize, device: device, dtype: dtype);
        fc2 = nn.Linear(intermediateSize, hiddenSize, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var inner = fc1.call(hidden);
        var activated = _activation switch
        {
            ClipActivation.QuickGelu => inner * sigmoid(inner * 1.702),
            _ => nn.functional.gelu(inner),
        };
        return fc2.call(activated).MoveToOuterDisposeScope();
    }
}
