using PersonGen.Diffusion;
using static TorchSharp.torch;

namespace PersonGen.Sampling;

/// <summary>One guidance term ω·(ε(Conditional) − ε(Unconditional)).</summary>
public readonly record struct GuidanceTerm(double Weight, Branch Conditional, Branch Unconditional);

/// <summary>
/// ε̃ = ε_u + Σ_k ω_k·(ε_cond,k − ε_uncond,k): the form of Eqs. 4–8 of "Beyond Fine-Tuning". Terms with ω = 0
/// are dropped together with their branches, so a zero weight costs no UNet rows.
/// </summary>
public sealed record GuidedSum(Branch Unconditional, params GuidanceTerm[] Terms)
{
    private IEnumerable<GuidanceTerm> ActiveTerms => Terms.Where(term => term.Weight != 0);

    public IEnumerable<Branch> Branches =>
        new[] { Unconditional }.Concat(ActiveTerms.SelectMany(term => new[] { term.Conditional, term.Unconditional })).Distinct();

    public Tensor Evaluate(BranchPredictions predictions)
    {
        var guided = predictions[Unconditional];
        foreach (var term in ActiveTerms)
            guided = guided + term.Weight * predictions.Delta(term.Conditional, term.Unconditional);
        return guided;
    }
}
