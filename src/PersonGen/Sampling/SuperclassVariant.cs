using PersonGen.Diffusion;

namespace PersonGen.Sampling;

/// <summary>Where the superclass branch Δ^S comes from (paper Appendix C).</summary>
public enum SuperclassVariant
{
    /// <summary>Fine-tuned text encoder and UNet, prompt with the class word (default).</summary>
    FineTuned,

    /// <summary>Original text encoder and UNet for the superclass row and its own unconditional row, as the paper defines NoFT.</summary>
    NoFT,

    /// <summary>Only the text encoder original, as the reference code's NoFT runs it.</summary>
    NoFTTextEncoder,

    /// <summary>The template filled with nothing instead of the class word, as the reference's empty-prompt option.</summary>
    Empty,
}

/// <summary>The branches a superclass variant uses: Δ^S = ε(Conditional) − ε(Unconditional).</summary>
public readonly record struct SuperclassBranches(Branch Conditional, Branch Unconditional)
{
    public static SuperclassBranches For(SuperclassVariant variant, int trajectory = 0) => variant switch
    {
        SuperclassVariant.FineTuned => new(new(PromptNames.Superclass, trajectory), new(PromptNames.Unconditional, trajectory)),
        SuperclassVariant.NoFT => new(
            new(PromptNames.Superclass, trajectory, ModelWeights.Original, ModelWeights.Original),
            new(PromptNames.Unconditional, trajectory, ModelWeights.Original, ModelWeights.Original)),
        SuperclassVariant.NoFTTextEncoder => new(
            new(PromptNames.Superclass, trajectory, ModelWeights.Original),
            new(PromptNames.Unconditional, trajectory, ModelWeights.Original)),
        SuperclassVariant.Empty => new(new(PromptNames.Empty, trajectory), new(PromptNames.Unconditional, trajectory)),
        _ => throw new ArgumentOutOfRangeException(nameof(variant)),
    };
}
