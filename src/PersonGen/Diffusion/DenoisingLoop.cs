using PersonGen.Diffusion.Schedulers;
using PersonGen.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Diffusion;

/// <summary>
/// The one denoising loop: per step, the guidance rule names its branches, the loop evaluates them in one batched
/// UNet call per weight set (installing the rule's attention hook), the rule combines the predictions, and the
/// scheduler steps every live trajectory. Intermediates are disposed step by step, so memory stays flat.
/// </summary>
public sealed class DenoisingLoop : IBranchEvaluator, IDisposable
{
    private readonly IDenoiser _denoiser;
    private readonly ITextConditioner _conditioner;
    private readonly Dictionary<(string Text, ModelWeights Weights), Tensor> _embeddings = new();
    private IGuidance? _guidance;

    public DenoisingLoop(IDenoiser denoiser, ITextConditioner conditioner)
    {
        _denoiser = denoiser;
        _conditioner = conditioner;
    }

    /// <summary>
    /// Denoises x_T = <paramref name="noise"/> (N, C, H, W; a unit draw) × the scheduler's initial sigma with
    /// <paramref name="guidance"/> over <paramref name="steps"/> steps of <paramref name="scheduler"/>, and returns the
    /// final latents of trajectory 0. Each trajectory gets its own stepper, since multistep schedulers keep history.
    /// Progress is reported per step under <paramref name="stage"/>.
    /// </summary>
    /// <exception cref="InvalidInputException">steps is outside the scheduler's range, or the rule refuses the scheduler.</exception>
    public Tensor Run(IGuidance guidance, ISchedulerConfig scheduler, int steps, DenoisingRun run, Tensor noise,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellation = default, string stage = "denoising")
    {
        var schedules = Enumerable.Range(0, guidance.Trajectories).Select(_ => scheduler.CreateSchedule(steps)).ToArray();
        var latents = new Tensor?[schedules.Length];
        _guidance = guidance;
        try
        {
            int count = schedules[0].Timesteps.Count;
            run.State = guidance.CreateRunState(run, count);
            using (var start = noise * schedules[0].InitNoiseSigma)
            {
                for (int trajectory = 0; trajectory < latents.Length; trajectory++)
                    latents[trajectory] = start.clone().DetachFromDisposeScope();
            }
            for (int i = 0; i < count; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                var step = new StepContext(i, count, schedules[0].Timesteps[i], schedules[0], run);
                var next = Step(guidance, step, schedules, latents);
                foreach (var old in latents) old?.Dispose();
                latents = next;
                CheckFinite(latents, step, stage);
                progress?.Report(new ProgressUpdate(stage, i + 1, count));
            }
            var result = latents[0]!;
            latents[0] = null;
            return result;
        }
        finally
        {
            foreach (var remaining in latents) remaining?.Dispose();
            foreach (var schedule in schedules) (schedule as IDisposable)?.Dispose();
            _guidance = null;
        }
    }

    /// <summary>Stops at the first step whose latents hold NaN or ±inf (one reduction per trajectory), so no black image is written.</summary>
    private static void CheckFinite(Tensor?[] latents, StepContext step, string stage)
    {
        using var scope = NewDisposeScope();
        foreach (var trajectory in latents)
        {
            if (trajectory is null || isfinite(trajectory).all().item<bool>()) continue;
            string cause = trajectory.dtype == ScalarType.Float16
                ? "float16 overflow (values beyond ±65504): run with dtype fp32 or bf16"
                : "a guidance scale is probably far too large for this model (or the weights hold NaN)";
            throw new NonFiniteLatentsException(
                $"{stage}: the latents became NaN or infinite at step {step.Index + 1} of {step.Count} (timestep {step.Timestep}); {cause}");
        }
    }

    private Tensor?[] Step(IGuidance guidance, StepContext step, IScheduler[] schedules, Tensor?[] latents)
    {
        using var scope = NewDisposeScope();
        var prepared = guidance.Prepare(step, latents, this);
        var predictions = Evaluate(step, guidance.Branches(step), prepared);
        var guided = guidance.Combine(step, predictions);
        var next = new Tensor?[latents.Length];
        for (int trajectory = 0; trajectory < next.Length; trajectory++)
        {
            if (guided[trajectory] is not { } output || prepared[trajectory] is not { } current) continue;
            var stepped = schedules[trajectory].Step(step.Index, output, current).PrevSample;
            next[trajectory] = stepped.MoveToOuterDisposeScope().DetachFromDisposeScope();
        }
        return next;
    }

    /// <inheritdoc />
    public BranchPredictions Evaluate(StepContext step, IReadOnlyList<Branch> branches, Tensor?[] latents)
    {
        var predictions = new BranchPredictions();
        int n = step.Run.ImageCount;
        foreach (var group in branches.Distinct().GroupBy(b => b.Unet))
        {
            var layout = new BranchLayout(group.ToList(), n);
            var sample = cat(layout.Branches.Select(b => Latents(latents, b)).ToList(), 0);
            var modelInput = step.Schedule.ScaleModelInput(sample, step.Index);
            var text = cat(layout.Branches.Select(b => Embedding(step.Run, b).expand(n, -1, -1)).ToList(), 0);
            _denoiser.UseWeights(group.Key);
            var output = _denoiser.Predict(modelInput, step.Timestep, text, _guidance?.CreateAttentionHook(step, layout));
            step.Run.RowsEvaluated += layout.TotalRows;
            foreach (var branch in layout.Branches)
                predictions.Add(branch, output.narrow(0, layout.Start(branch), n));
        }
        _denoiser.UseWeights(ModelWeights.FineTuned);
        return predictions;
    }

    private static Tensor Latents(Tensor?[] latents, Branch branch) =>
        latents[branch.Trajectory] ?? throw new InvalidOperationException($"trajectory {branch.Trajectory} has ended; branch {branch} cannot use it");

    private Tensor Embedding(DenoisingRun run, Branch branch)
    {
        if (!run.Prompts.TryGetValue(branch.Prompt, out var text))
            throw new InvalidOperationException($"no prompt named '{branch.Prompt}' in this run");
        var key = (text, branch.TextEncoder);
        if (!_embeddings.TryGetValue(key, out var embedding))
        {
            using (no_grad())
                embedding = _conditioner.Encode(text, branch.TextEncoder).DetachFromDisposeScope();
            _embeddings[key] = embedding;
        }
        return embedding;
    }

    /// <summary>Releases the cached text embeddings.</summary>
    public void Dispose()
    {
        foreach (var embedding in _embeddings.Values) embedding.Dispose();
        _embeddings.Clear();
    }
}
