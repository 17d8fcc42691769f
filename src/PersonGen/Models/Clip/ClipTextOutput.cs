using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>
/// Output of <see cref="ClipTextModel"/>. <see cref="LastHiddenState"/> (B, L, D) is after <c>final_layer_norm</c>
/// (with clip-skip: the selected earlier layer passed through it); <see cref="PooledOutput"/> (B, D) is the final
/// normalised state at the EOS position; <see cref="HiddenStates"/> (layers + 1 of (B, L, D), before the final norm)
/// is empty unless asked for.
/// </summary>
public sealed record ClipTextOutput(Tensor LastHiddenState, Tensor PooledOutput, IReadOnlyList<Tensor> HiddenStates) : IDisposable
{
    internal ClipTextOutput MoveToOuterDisposeScope()
    {
        LastHiddenState.MoveToOuterDisposeScope();
        PooledOutput.MoveToOuterDisposeScope();
        foreach (var state in HiddenStates) state.MoveToOuterDisposeScope();
        return this;
    }

    public void Dispose()
    {
        LastHiddenState.Dispose();
        PooledOutput.Dispose();
        foreach (var state in HiddenStates) state.Dispose();
    }
}
