using PersonGen.Diffusion;
using PersonGen.Models.Attention;
using PersonGen.Sampling;
using static TorchSharp.torch;

namespace PersonGen.Tests.Sampling;

/// <summary>
/// Runs <paramref name="inner"/> unchanged and records, per step, each branch's UNet output ("branch.{branch}"), what
/// the loop hands the scheduler ("eps", and
/// "eps_superclass" for a second trajectory) and the latents after <see cref="IGuidance.Prepare"/> ("prepared").
/// <paramref name="extraHook"/> may add an observing hook next to the strategy's own.
/// </summary>
public sealed class RecordingStrategy(ISamplingStrategy inner, Func<StepContext, BranchLayout, IAttentionHook?>? extraHook = null) : ISamplingStrategy
{
    public string Spec => inner.Spec;

    public void Validate(int steps) => inner.Validate(steps);

    public int Trajectories => inner.Trajectories;

    public object? CreateRunState(DenoisingRun run, int steps) => inner.CreateRunState(run, steps);

    public IReadOnlyList<Branch> Branches(StepContext step) => inner.Branches(step);

    public Tensor?[] Prepare(StepContext step, Tensor?[] latents, IBranchEvaluator evaluator)
    {
        var prepared = inner.Prepare(step, latents, evaluator);
        step.Run.Record("prepared", prepared[0]!);
        return prepared;
    }

    public Tensor?[] Combine(StepContext step, BranchPredictions predictions)
    {
        foreach (var branch in inner.Branches(step)) step.Run.Record($"branch.{branch}", predictions[branch]);
        var guided = inner.Combine(step, predictions);
        step.Run.Record("eps", guided[0]!);
        if (guided.Length > 1 && guided[1] is { } superclass) step.Run.Record("eps_superclass", superclass);
        return guided;
    }

    public IAttentionHook? CreateAttentionHook(StepContext step, BranchLayout layout)
    {
        var own = inner.CreateAttentionHook(step, layout);
        var extra = extraHook?.Invoke(step, layout);
        return extra is null ? own : own is null ? extra : new BothHooks(extra, own);
    }

    /// <summary>The observer sees the probabilities first, then the strategy's hook edits them.</summary>
    private sealed class BothHooks(IAttentionHook observer, IAttentionHook editor) : IAttentionHook
    {
        public bool NeedsProbabilities(AttentionSite site) => observer.NeedsProbabilities(site) || editor.NeedsProbabilities(site);

        public Tensor OnProbabilities(AttentionSite site, Tensor probabilities) =>
            editor.NeedsProbabilities(site) ? editor.OnProbabilities(site, observer.OnProbabilities(site, probabilities)) : observer.OnProbabilities(site, probabilities);

        public Tensor OnOutput(AttentionSite site, Tensor output) => editor.OnOutput(site, observer.OnOutput(site, output));
    }
}
