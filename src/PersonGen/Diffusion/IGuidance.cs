using PersonGen.Models.Attention;
using static TorchSharp.torch;

namespace PersonGen.Diffusion;

/// <summary>
/// How a denoising step turns branch predictions into the guided prediction: it names the branches the step
/// needs and combines their outputs. It never runs the UNet itself; the loop evaluates all branches that share a
/// weight set in one batched call.
/// </summary>
public interface IGuidance
{
    /// <summary>Latent trajectories the rule follows (Photoswap: 2). Trajectory 0 is the output image.</summary>
    int Trajectories => 1;

    /// <summary>Creates per-run state (for example a noise stream); stored in <see cref="DenoisingRun.State"/>.</summary>
    object? CreateRunState(DenoisingRun run, int steps) => null;

    /// <summary>The branches step <paramref name="step"/> needs, in batch order.</summary>
    IReadOnlyList<Branch> Branches(StepContext step);

    /// <summary>
    /// The guided model output for each trajectory (same prediction space as the UNet's output); a null entry ends
    /// that trajectory (it is needed no more).
    /// </summary>
    Tensor?[] Combine(StepContext step, BranchPredictions predictions);

    /// <summary>An attention hook for one batched UNet call of this step, or null for the fast path.</summary>
    IAttentionHook? CreateAttentionHook(StepContext step, BranchLayout layout) => null;

    /// <summary>Runs before the step's branches are evaluated and may replace the latents (ProFusion's fusion step).</summary>
    Tensor?[] Prepare(StepContext step, Tensor?[] latents, IBranchEvaluator evaluator) => latents;
}

/// <summary>Evaluates branches on given latents (used by rules whose step needs an extra UNet pass).</summary>
public interface IBranchEvaluator
{
    BranchPredictions Evaluate(StepContext step, IReadOnlyList<Branch> branches, Tensor?[] latents);
}
