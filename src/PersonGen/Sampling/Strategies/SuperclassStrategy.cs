using PersonGen.Diffusion;

namespace PersonGen.Sampling.Strategies;

/// <summary>Superclass sampling, Eq. 5: ε̃ = ε_u + ω·Δ^S.</summary>
public sealed record SuperclassStrategy(double Scale, SuperclassVariant Super = SuperclassVariant.FineTuned) : GuidedSumStrategy
{
    public static StrategyDefinition Definition { get; } = new("superclass", "class prompt only: ε_u + ω Δ^S",
        [StrategyParameter.Scale("w", "guidance scale ω", "7"), StrategyParameter.Super],
        a => new SuperclassStrategy(a.Number("w"), a.Super));

    public override string Spec => SpecFormat.Of("superclass", ("w", Scale), ("super", SpecFormat.Super(Super)));

    protected override GuidedSum Guidance(StepContext step) => new(Unconditional, SuperclassTerm(Scale, Super));
}
