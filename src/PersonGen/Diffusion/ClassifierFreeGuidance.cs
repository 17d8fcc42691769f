using static TorchSharp.torch;

namespace PersonGen.Diffusion;

/// <summary>Classifier-free guidance (Ho &amp; Salimans): ε̃ = ε_neg + ω·(ε_prompt − ε_neg); ω = 1 needs the prompt branch only.</summary>
public sealed record ClassifierFreeGuidance(double Scale) : IGuidance
{
    public const string PromptName = "prompt";
    public const string NegativeName = "negative";

    private static Branch Prompt => new(PromptName);

    private static Branch Negative => new(NegativeName);

    public IReadOnlyList<Branch> Branches(StepContext step) => Scale == 1 ? [Prompt] : [Negative, Prompt];

    public Tensor?[] Combine(StepContext step, BranchPredictions predictions) => Scale == 1
        ? [predictions[Prompt]]
        : [predictions[Negative] + Scale * predictions.Delta(Prompt, Negative)];
}
