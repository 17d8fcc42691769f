using PersonGen.Diffusion;

namespace PersonGen.Sampling.Strategies;

/// <summary>Mixed sampling, Eq. 6: ε̃ = ε_u + ω_c·Δ^C + ω_s·Δ^S at every step.</summary>
public sealed record MixedStrategy(double ConceptScale, double SuperclassScale, SuperclassVariant Super = SuperclassVariant.FineTuned)
    : GuidedSumStrategy
{
    public static StrategyDefinition Definition { get; } = new("mixed", "both prompts every step: ε_u + ω_c Δ^C + ω_s Δ^S",
        [StrategyParameter.Scale("wc", "concept scale ω_c", "3.5"), StrategyParameter.Scale("ws", "superclass scale ω_s", "3.5"), StrategyParameter.Super],
        a => new MixedStrategy(a.Number("wc"), a.Number("ws"), a.Super));

    public override string Spec => SpecFormat.Of("mixed", ("wc", ConceptScale), ("ws", SuperclassScale), ("super", SpecFormat.Super(Super)));

    protected override GuidedSum Guidance(StepContext step) =>
        new(Unconditional, ConceptTerm(ConceptScale), SuperclassTerm(SuperclassScale, Super));
}
