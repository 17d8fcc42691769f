using PersonGen.Diffusion;

namespace PersonGen.Sampling.Strategies;

/// <summary>Switching sampling, Eq. 7: ε_u + ω·Δ^S for the first t_sw steps, then ε_u + ω·Δ^C (2N rows every step).</summary>
public sealed record SwitchingStrategy(double Scale, int SwitchStep, SuperclassVariant Super = SuperclassVariant.FineTuned) : GuidedSumStrategy
{
    public static StrategyDefinition Definition { get; } = new("switching", "superclass guidance for t_sw steps, then concept guidance",
        [StrategyParameter.Scale("w", "guidance scale ω", "7"), StrategyParameter.Step("tsw", "switch step t_sw", "7"), StrategyParameter.Super],
        a => new SwitchingStrategy(a.Number("w"), a.Integer("tsw"), a.Super));

    public override string Spec => SpecFormat.Of("switching", ("w", Scale), ("tsw", SwitchStep), ("super", SpecFormat.Super(Super)));

    public override void Validate(int steps) => SpecFormat.CheckStep(Spec, "tsw", SwitchStep, steps);

    protected override GuidedSum Guidance(StepContext step) => step.Index < SwitchStep
        ? new(Unconditional, SuperclassTerm(Scale, Super))
        : new(Unconditional, ConceptTerm(Scale));
}
