using PersonGen.Diffusion;
using PersonGen.Diffusion.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Sampling.Strategies;

/// <summary>
/// ProFusion (reference-spec §2.8): before each step, <c>k</c> fusion steps — a DDIM step with stochasticity
/// σ = r·√var guided by ε_u + g_r·Δ^C, then diffused back to t, in closed form — followed by one Mixed step.
/// σ = 0 (r = 0, or ᾱ_prev = 1) skips the fusion, so ProFusion(r=0) is Mixed.
/// </summary>
public sealed record ProFusionStrategy(double ConceptScale, double SuperclassScale, double Ratio, double FusionScale,
    int FusionSteps = 1, int NoiseSeedOffset = 10, SuperclassVariant Super = SuperclassVariant.FineTuned) : ISamplingStrategy
{
    /// <summary>Name of the optional run input holding the noise stream, shape (fusion steps, steps, N, C, H, W).</summary>
    public const string NoiseInput = "refine_noise";

    public static StrategyDefinition Definition { get; } = new("profusion", "fusion step (r, g_r) before every Mixed step",
        [StrategyParameter.Scale("wc", "concept scale ω_c of the Mixed step", "3.5"),
         StrategyParameter.Scale("ws", "superclass scale ω_s of the Mixed step", "3.5"),
         StrategyParameter.Scale("r", "stochasticity ratio r of the fusion step", "1"),
         StrategyParameter.Scale("gr", "guidance scale g_r of the fusion step", "7"),
         new("k", "fusion steps per sampling step", "1", Min: 0, Max: 100, Integer: true),
         new("rseed", "noise seed offset: the fusion noise uses seed Σord(template) + seed + rseed, as the reference", "10", Integer: true),
         StrategyParameter.Super],
        a => new ProFusionStrategy(a.Number("wc"), a.Number("ws"), a.Number("r"), a.Number("gr"), a.Integer("k"), a.Integer("rseed"), a.Super));

    public string Spec => SpecFormat.Of("profusion", ("wc", ConceptScale), ("ws", SuperclassScale), ("r", Ratio), ("gr", FusionScale),
        ("k", FusionSteps == 1 ? null : FusionSteps), ("rseed", NoiseSeedOffset == 10 ? null : NoiseSeedOffset), ("super", SpecFormat.Super(Super)));

    /// <summary>Whether a fusion step runs (r ≠ 0 and k > 0); otherwise the strategy is Mixed.</summary>
    public bool Fuses => Ratio != 0 && FusionSteps > 0;

    private static Branch Unconditional => new(PromptNames.Unconditional);

    private static Branch Concept => new(PromptNames.Concept);

    private GuidedSum Mixed
    {
        get
        {
            var superclass = SuperclassBranches.For(Super);
            return new(Unconditional, new GuidanceTerm(ConceptScale, Concept, Unconditional),
                new GuidanceTerm(SuperclassScale, superclass.Conditional, superclass.Unconditional));
        }
    }

    public object? CreateRunState(DenoisingRun run, int steps)
    {
        if (!Fuses) return null;
        // The stream covers every image of the request, so a batch takes its images' slice and equals the unbatched run.
        long[] shape = [FusionSteps, steps, run.TotalImageCount, .. run.LatentShape[1..]];
        if (!run.Inputs.TryGetValue(NoiseInput, out var given))
        {
            using var all = Draw(shape, run.Seed + NoiseSeedOffset);
            return new FusionNoise(BatchSlice(all, run));
        }
        if (given.dim() != 6 || given.shape[0] < FusionSteps || given.shape[1] < steps || !given.shape[2..].SequenceEqual(shape[2..]))
            throw new InvalidInputException(
                $"refine noise has shape [{string.Join(", ", given.shape)}]; ProFusion needs [{string.Join(", ", shape)}]");
        return new FusionNoise(BatchSlice(given, run));
    }

    private static Tensor BatchSlice(Tensor noise, DenoisingRun run) =>
        noise.narrow(2, run.FirstImage, run.ImageCount).DetachFromDisposeScope();

    public IReadOnlyList<Branch> Branches(StepContext step) => Mixed.Branches.ToList();

    public Tensor?[] Combine(StepContext step, BranchPredictions predictions) => [Mixed.Evaluate(predictions)];

    public Tensor?[] Prepare(StepContext step, Tensor?[] latents, IBranchEvaluator evaluator)
    {
        if (!Fuses) return latents;
        if (step.Schedule is not IAlphaCumprodSchedule schedule)
            throw new InvalidInputException(
                $"ProFusion's fusion step needs ᾱ at t and t−1, which the {step.Schedule.GetType().Name.Replace("Schedule", "", StringComparison.Ordinal)} scheduler does not provide; sample ProFusion with scheduler ddim");
        var noise = (FusionNoise)step.Run.State!;
        double alpha = schedule.AlphaCumprod(step.Index);
        double alphaPrev = schedule.AlphaCumprodPrev(step.Index);
        double variance = (1 - alphaPrev) / (1 - alpha) * (1 - alpha / alphaPrev);
        double sigma = Ratio * Math.Sqrt(variance);
        // σ = 0 (ᾱ_prev = 1 on the last step with set_alpha_to_one) is the identity, as r = 0 is; the closed form would divide 0 by 0.
        if (sigma == 0) return latents;
        double epsilonCoefficient = sigma * sigma * Math.Sqrt(1 - alpha) / (1 - alphaPrev);
        double noiseCoefficient = sigma * Math.Sqrt((1 - alpha) * (2 - 2 * alphaPrev - sigma * sigma)) / (1 - alphaPrev);
        var x = latents[0]!;
        for (int k = 0; k < FusionSteps; k++)
        {
            var predictions = evaluator.Evaluate(step, [Unconditional, Concept], [x]);
            var guided = predictions[Unconditional] + FusionScale * predictions.Delta(Concept, Unconditional);
            var epsilon = schedule.ToEpsilon(guided, x, step.Index);
            var z = noise.Noise[k, step.Index].to(x.dtype, x.device);
            x = x - epsilonCoefficient * epsilon + noiseCoefficient * z;
        }
        return [x];
    }

    /// <summary>The reference's stream: one randn of shape (K, S, N, C, H, W) from a CPU generator.</summary>
    private static Tensor Draw(long[] shape, long seed)
    {
        using var generator = new Generator((ulong)seed);
        return randn(shape, generator: generator).DetachFromDisposeScope();
    }

    private sealed record FusionNoise(Tensor Noise) : IDisposable
    {
        public void Dispose() => Noise.Dispose();
    }
}
