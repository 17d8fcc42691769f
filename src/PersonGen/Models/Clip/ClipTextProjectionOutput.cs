using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>
/// Output of <see cref="ClipTextModelWithProjection"/>: <see cref="TextEmbeds"/> (B, projection_dim) = text_projection(pooled),
/// not normalised; <see cref="LastHiddenState"/> (B, L, D) and <see cref="HiddenStates"/> as in <see cref="ClipTextOutput"/>.
/// </summary>
public sealed record ClipTextProjectionOutput(Tensor TextEmbeds, Tensor LastHiddenState, IReadOnlyList<Tensor> HiddenStates) : IDisposable
{
    public void Dispose()
    {
        TextEmbeds.Dispose();
        LastHiddenState.Dispose();
        foreach (var state in HiddenStates) state.Dispose();
    }
}
