using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>
/// Output of <see cref="ClipVisionModelWithProjection"/>: <see cref="ImageEmbeds"/> (B, projection_dim), not normalised;
/// <see cref="LastHiddenState"/> (B, 1 + grid², D) after the encoder, before <c>post_layernorm</c>;
/// <see cref="HiddenStates"/> (layers + 1, the first after <c>pre_layrnorm</c>), empty unless asked for.
/// </summary>
public sealed record ClipVisionOutput(Tensor ImageEmbeds, Tensor LastHiddenState, IReadOnlyList<Tensor> HiddenStates) : IDisposable
{
    public void Dispose()
    {
        ImageEmbeds.Dispose();
        LastHiddenState.Dispose();
        foreach (var state in HiddenStates) state.Dispose();
    }
}
