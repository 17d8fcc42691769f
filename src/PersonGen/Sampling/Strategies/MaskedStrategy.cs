using PersonGen.Diffusion;
using PersonGen.Models.Attention;
using static TorchSharp.torch;

namespace PersonGen.Sampling.Strategies;

/// <summary>Where Masked sampling reads its cross-attention mask.</summary>
public enum MaskSource
{
    /// <summary>The placeholder token in the concept branch, as the paper describes.</summary>
    Concept,

    /// <summary>The superclass branch at the placeholder's position, as the reference code does.</summary>
    Reference,
}

/// <summary>
/// Masked sampling, Eqs. 9–11: Mixed with (ω_c⁰, ω_s⁰) for the first t_sw steps; then inside the mask
/// M_t = map > quantile_q(map) ε_u + ω_c·Δ^C + ω_s·Δ^S (or, as the reference, Eq. 9's ε_u + (ω_c+ω_s)·Δ^C when ω_c or
/// ω_s is 0) and outside ε_u + (ω_c+ω_s)·Δ^S.
/// </summary>
public sealed record MaskedStrategy(int SwitchStep, double InitialConceptScale, double InitialSuperclassScale,
    double ConceptScale, double SuperclassScale, double Quantile, MaskSource Source = MaskSource.Concept,
    SuperclassVariant Super = SuperclassVariant.FineTuned) : ISamplingStrategy
{
    public static StrategyDefinition Definition { get; } = new("masked",
        "Mixed until t_sw, then concept+superclass inside the cross-attention mask and superclass outside",
        [StrategyParameter.Step("tsw", "switch step t_sw", "3"),
         StrategyParameter.Scale("wc0", "concept scale before t_sw", "0"), StrategyParameter.Scale("ws0", "superclass scale before t_sw", "7"),
         StrategyParameter.Scale("wc", "concept scale inside the mask", "3.5"), StrategyParameter.Scale("ws", "superclass scale inside the mask", "3.5"),
         new("q", "mask quantile: about 1−q of the pixels are concept", "0.7", Min: 0, Max: 1),
         new("source", "mask source: concept (placeholder in the concept branch) or reference (superclass rows, as the reference code)",
             "concept", Choices: ["concept", "reference"]),
         StrategyParameter.Super],
        a => new MaskedStrategy(a.Integer("tsw"), a.Number("wc0"), a.Number("ws0"), a.Number("wc"), a.Number("ws"), a.Number("q"),
            a.Choice("source") == "reference" ? MaskSource.Reference : MaskSource.Concept, a.Super));

    public string Spec => SpecFormat.Of("masked", ("tsw", SwitchStep), ("wc0", InitialConceptScale), ("ws0", InitialSuperclassScale),
        ("wc", ConceptScale), ("ws", SuperclassScale), ("q", Quantile), ("source", Source == MaskSource.Reference ? "reference" : "concept"),
        ("super", SpecFormat.Super(Super)));

    public void Validate(int steps) => SpecFormat.CheckStep(Spec, "tsw", SwitchStep, steps);

    private static Branch Unconditional => new(PromptNames.Unconditional);

    private static Branch Concept => new(PromptNames.Concept);

    private SuperclassBranches Superclass => SuperclassBranches.For(Super);

    private Branch MaskBranch => Source == MaskSource.Concept ? Concept : Superclass.Conditional;

    private GuidedSum Before => new(Unconditional,
        new GuidanceTerm(InitialConceptScale, Concept, Unconditional),
        new GuidanceTerm(InitialSuperclassScale, Superclass.Conditional, Superclass.Unconditional));

    private GuidedSum Inside => ConceptScale != 0 && SuperclassScale != 0
        ? new(Unconditional, new GuidanceTerm(ConceptScale, Concept, Unconditional),
            new GuidanceTerm(SuperclassScale, Superclass.Conditional, Superclass.Unconditional))
        : new(Unconditional, new GuidanceTerm(ConceptScale + SuperclassScale, Concept, Unconditional));

    /// <summary>Test hook, not part of any spec: maps the computed mask (N, 1, H, W, bool) to the one used, to check what each region receives.</summary>
    public Func<Tensor, Tensor>? MaskOverride { get; init; }

    private GuidedSum Outside => new(Unconditional, new GuidanceTerm(ConceptScale + SuperclassScale, Superclass.Conditional, Superclass.Unconditional));

    public object? CreateRunState(DenoisingRun run, int steps) => new MaskState(run.PlaceholderPositions.Count > 0
        ? run.PlaceholderPositions
        : throw new InvalidInputException("masked sampling needs the placeholder's token positions in the concept prompt"));

    public IReadOnlyList<Branch> Branches(StepContext step) => step.Index < SwitchStep
        ? Before.Branches.ToList()
        : Inside.Branches.Concat(Outside.Branches).Append(MaskBranch).Distinct().ToList();

    public IAttentionHook? CreateAttentionHook(StepContext step, BranchLayout layout)
    {
        if (step.Index < SwitchStep || !layout.Contains(MaskBranch)) return null;
        var state = (MaskState)step.Run.State!;
        // The reference reads the superclass rows at the placeholder's position in the concept prompt (one token).
        var positions = Source == MaskSource.Concept ? state.Positions : [state.Positions[0]];
        state.Capture = new CrossAttentionMapCapture(layout, MaskBranch, positions, step.Run.LatentShape[2], step.Run.LatentShape[3]);
        return state.Capture;
    }

    public Tensor?[] Combine(StepContext step, BranchPredictions predictions)
    {
        if (step.Index < SwitchStep) return [Before.Evaluate(predictions)];
        var state = (MaskState)step.Run.State!;
        using var map = state.Capture!.TakeMap();
        state.Capture = null;
        step.Run.Record("attention_map", map);
        var computed = map > QuantilePerImage(map, Quantile);
        var mask = MaskOverride?.Invoke(computed) ?? computed;
        step.Run.Record("mask", mask);
        return [where(mask, Inside.Evaluate(predictions), Outside.Evaluate(predictions))];
    }

    /// <summary>torch.quantile with linear interpolation, per image, as (N, 1, 1, 1).</summary>
    private static Tensor QuantilePerImage(Tensor map, double q)
    {
        long n = map.shape[0];
        var sorted = map.reshape(n, -1).sort(1).Values;
        double position = q * (sorted.shape[1] - 1);
        long below = (long)Math.Floor(position);
        long above = Math.Min(below + 1, sorted.shape[1] - 1);
        double weight = position - below;
        var low = sorted.narrow(1, below, 1);
        var high = sorted.narrow(1, above, 1);
        // PyTorch's lerp: start + w·(end − start) for w < 0.5, end − (1 − w)·(end − start) otherwise.
        var threshold = weight < 0.5 ? low + weight * (high - low) : high - (1 - weight) * (high - low);
        return threshold.reshape(n, 1, 1, 1);
    }

    private sealed class MaskState(IReadOnlyList<int> positions)
    {
        public IReadOnlyList<int> Positions { get; } = positions;

        public CrossAttentionMapCapture? Capture { get; set; }
    }
}
