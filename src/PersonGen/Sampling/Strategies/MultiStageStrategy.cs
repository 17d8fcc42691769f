using PersonGen.Diffusion;

namespace PersonGen.Sampling.Strategies;

/// <summary>Multi-stage sampling, Eq. 8: ε_u + (ω_c+ω_s)·Δ^S for the first t_sw steps, then Mixed.</summary>
public sealed record MultiStageStrategy(double ConceptScale, double SuperclassScale, int SwitchStep,
    SuperclassVariant Super = SuperclassVariant.FineTuned) : GuidedSumStrategy
{
    public static StrategyDefinition Definition { get; } = new("multistage", "superclass guidance (ω_c+ω_s) for t_sw steps, then Mixed",
        [StrategyParameter.Scale("wc", "concept scale ω_c", "4"), StrategyParameter.Scale("ws", "superclass scale ω_s", "3"),
         StrategyParameter.Step("tsw", "switch step t_sw", "10"), StrategyParameter.Super],
        a => new MultiStageStrategy(a.Number("wc"), a.Number("ws"), a.Integer("tsw"), a.Super));

    public override string Spec =>
        SpecFormat.Of("multistage", ("wc", ConceptScale), ("ws", SuperclassScale), ("tsw", SwitchStep), ("super", SpecFormat.Super(Super)));

    public override void Validate(int steps) => SpecFormat.CheckStep(Spec, "tsw", SwitchStep, steps);

    protected override GuidedSum Guidance(StepContext step) => step.Index < SwitchStep
        ? new(Unconditional, SuperclassTerm(ConceptScale + SuperclassScale, Super))
        : new(Unconditional, ConceptTerm(ConceptScale), SuperclassTerm(SuperclassScale, Super));
}
