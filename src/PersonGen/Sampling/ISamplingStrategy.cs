using PersonGen.Diffusion;

namespace PersonGen.Sampling;

/// <summary>A sampling strategy of the study: a guidance rule with a canonical spec string (e.g. <c>mixed:wc=3.5,ws=3.5</c>).</summary>
public interface ISamplingStrategy : IGuidance
{
    /// <summary>The canonical spec string; parsing it gives an equal strategy.</summary>
    string Spec { get; }

    /// <summary>Checks the parameters against the run's step count; throws <see cref="InvalidInputException"/>.</summary>
    void Validate(int steps) { }
}

/// <summary>A single-trajectory strategy whose every step is one <see cref="GuidedSum"/>.</summary>
public abstract record GuidedSumStrategy : ISamplingStrategy
{
    public abstract string Spec { get; }

    /// <summary>The guidance formula of step <paramref name="step"/>.</summary>
    protected abstract GuidedSum Guidance(StepContext step);

    public virtual void Validate(int steps) { }

    public IReadOnlyList<Branch> Branches(StepContext step) => Guidance(step).Branches.ToList();

    public TorchSharp.torch.Tensor?[] Combine(StepContext step, BranchPredictions predictions) => [Guidance(step).Evaluate(predictions)];

    protected static Branch Unconditional => new(PromptNames.Unconditional);

    protected static Branch Concept => new(PromptNames.Concept);

    /// <summary>ω·Δ^C.</summary>
    protected static GuidanceTerm ConceptTerm(double weight) => new(weight, Concept, Unconditional);

    /// <summary>ω·Δ^S for the given superclass variant.</summary>
    protected static GuidanceTerm SuperclassTerm(double weight, SuperclassVariant variant)
    {
        var superclass = SuperclassBranches.For(variant);
        return new(weight, superclass.Conditional, superclass.Unconditional);
    }
}
