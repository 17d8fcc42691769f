using PersonGen.Diffusion;

namespace PersonGen.Sampling.Strategies;

/// <summary>Base sampling, Eq. 4 of "Beyond Fine-Tuning": ε̃ = ε_u + ω·Δ^C.</summary>
public sealed record BaseStrategy(double Scale) : GuidedSumStrategy
{
    public static StrategyDefinition Definition { get; } = new("base", "concept prompt only: ε_u + ω Δ^C",
        [StrategyParameter.Scale("w", "guidance scale ω", "7")], a => new BaseStrategy(a.Number("w")));

    public override string Spec => SpecFormat.Of("base", ("w", Scale));

    protected override GuidedSum Guidance(StepContext step) => new(Unconditional, ConceptTerm(Scale));
}
