using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>transformers' <c>CLIPEncoder</c>: a stack of <see cref="ClipEncoderLayer"/> (keys <c>layers.N.…</c>).</summary>
public sealed class ClipEncoder : nn.Module
{
    public ModuleList<ClipEncoderLayer> layers;

    internal ClipEncoder(ClipEncoderShape shape, Device? device, ScalarType? dtype) : base(nameof(ClipEncoder))
    {
        layers = new ModuleList<ClipEncoderLayer>();
        for (int i = 0; i < shape.Layers; i++) layers.Add(new ClipEncoderLayer(shape, device, dtype));
        RegisterComponents();
    }

    /// <summary>
    /// Runs all layers on (B, L, D) input. When <paramref name="hiddenStates"/> is given it receives the input and
    /// every layer's output (layers + 1 tensors, transformers' <c>hidden_states</c>); the last of them is returned.
    /// </summary>
    public Tensor forward(Tensor embeddings, Tensor? mask, bool causal, List<Tensor>? hiddenStates)
    {
        hiddenStates?.Add(embeddings);
        var hidden = embeddings;
        foreach (var layer in layers)
        {
            var next = layer.call(hidden, mask, causal);
            if (hiddenStates is not null) hiddenStates.Add(next);
            else if (!ReferenceEquals(hidden, embeddings)) hidden.Dispose();
            hidden = next;
        }
        return hidden;
    }
}
