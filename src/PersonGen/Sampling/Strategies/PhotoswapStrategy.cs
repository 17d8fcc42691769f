using PersonGen.Diffusion;
using PersonGen.Models.Attention;
using static TorchSharp.torch;

namespace PersonGen.Sampling.Strategies;

/// <summary>
/// Photoswap (reference-spec §2.7): a concept trajectory x and a superclass trajectory x^s from the same x_T; for the
/// first t_SF / t_CM / t_SM steps the concept branch takes the superclass branch's self-attention outputs /
/// cross-attention maps / self-attention maps. x: ε_u + ω·Δ^C; x^s: ε_u + ω_ref·Δ^S. Once every swap has ended the
/// superclass trajectory no longer influences x, so it stops and costs nothing.
/// </summary>
public sealed record PhotoswapStrategy(double Scale, double ReferenceScale, int SelfFeatureSteps, int CrossMapSteps, int SelfMapSteps,
    TokenAlignment Alignment = TokenAlignment.Corrected, SuperclassVariant Super = SuperclassVariant.FineTuned) : ISamplingStrategy
{
    public static StrategyDefinition Definition { get; } = new("photoswap",
        "superclass trajectory donates self-attention features and maps and cross-attention maps early on",
        [StrategyParameter.Scale("w", "concept guidance ω", "7"), StrategyParameter.Scale("wref", "superclass trajectory guidance ω_ref", "7"),
         StrategyParameter.Step("sf", "t_SF: steps with swapped self-attention features", "5"),
         StrategyParameter.Step("cm", "t_CM: steps with swapped cross-attention maps", "15"),
         StrategyParameter.Step("sm", "t_SM: steps with swapped self-attention maps", "20"),
         new("align", "cross-attention map alignment: corrected (around the placeholder) or reference (as the reference code)",
             "corrected", Choices: ["corrected", "reference"]),
         StrategyParameter.Super],
        a => new PhotoswapStrategy(a.Number("w"), a.Number("wref"), a.Integer("sf"), a.Integer("cm"), a.Integer("sm"),
            a.Choice("align") == "reference" ? TokenAlignment.Reference : TokenAlignment.Corrected, a.Super).CheckSuper());

    public string Spec => SpecFormat.Of("photoswap", ("w", Scale), ("wref", ReferenceScale), ("sf", SelfFeatureSteps),
        ("cm", CrossMapSteps), ("sm", SelfMapSteps), ("align", Alignment == TokenAlignment.Reference ? "reference" : null),
        ("super", SpecFormat.Super(Super)));

    public int Trajectories => 2;

    public void Validate(int steps)
    {
        CheckSuper();
        SpecFormat.CheckStep(Spec, "sf", SelfFeatureSteps, steps);
        SpecFormat.CheckStep(Spec, "cm", CrossMapSteps, steps);
        SpecFormat.CheckStep(Spec, "sm", SelfMapSteps, steps);
    }

    /// <summary>
    /// Refuses <c>super=noft</c>: its donor rows run with the original UNet in a UNet call of their own, and the swap
    /// edits rows of one call, so it would silently be Base.
    /// </summary>
    private PhotoswapStrategy CheckSuper() => Super != SuperclassVariant.NoFT ? this
        : throw new InvalidInputException(
            $"strategy '{Spec}': photoswap cannot use super=noft (the original-UNet superclass rows run in a separate UNet call, so nothing could be swapped); use super=noft-te, empty or finetuned");

    private int SwapSteps => Math.Max(SelfFeatureSteps, Math.Max(CrossMapSteps, SelfMapSteps));

    private static Branch Unconditional => new(PromptNames.Unconditional);

    private static Branch Concept => new(PromptNames.Concept);

    private static SuperclassBranches Superclass(SuperclassVariant variant) => SuperclassBranches.For(variant, trajectory: 1);

    private GuidedSum ConceptGuidance => new(Unconditional, new GuidanceTerm(Scale, Concept, Unconditional));

    private GuidedSum SuperclassGuidance
    {
        get
        {
            var superclass = Superclass(Super);
            return new(superclass.Unconditional, new GuidanceTerm(ReferenceScale, superclass.Conditional, superclass.Unconditional));
        }
    }

    public IReadOnlyList<Branch> Branches(StepContext step) => step.Index < SwapSteps
        ? ConceptGuidance.Branches.Concat(SuperclassGuidance.Branches).Append(Superclass(Super).Conditional).Distinct().ToList()
        : ConceptGuidance.Branches.ToList();

    public IAttentionHook? CreateAttentionHook(StepContext step, BranchLayout layout)
    {
        var donor = Superclass(Super).Conditional;
        if (step.Index >= SwapSteps || (!layout.Contains(Concept) && !layout.Contains(donor))) return null;
        if (!layout.Contains(Concept) || !layout.Contains(donor))
            throw new InvalidOperationException($"photoswap: branches {Concept} and {donor} are in different UNet calls, so the swap cannot run");
        return new PhotoswapAttentionHook(layout, Concept, donor,
            selfFeatures: step.Index < SelfFeatureSteps, crossMaps: step.Index < CrossMapSteps, selfMaps: step.Index < SelfMapSteps,
            Alignment, step.Run.PlaceholderPositions);
    }

    public Tensor?[] Combine(StepContext step, BranchPredictions predictions) =>
        [ConceptGuidance.Evaluate(predictions), step.Index < SwapSteps ? SuperclassGuidance.Evaluate(predictions) : null];
}
