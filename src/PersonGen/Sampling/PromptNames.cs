namespace PersonGen.Sampling;

/// <summary>Names of the prompts a personalized run encodes (keys of <see cref="Diffusion.DenoisingRun.Prompts"/>).</summary>
public static class PromptNames
{
    /// <summary>The empty prompt, ε_u.</summary>
    public const string Unconditional = "uncond";

    /// <summary>The template filled with placeholder and class ("a sks dog in the snow"), ε_c.</summary>
    public const string Concept = "concept";

    /// <summary>The template filled with the class word ("a dog in the snow"), ε_s.</summary>
    public const string Superclass = "superclass";

    /// <summary>The template filled with nothing ("a  in the snow"), the Empty superclass variant.</summary>
    public const string Empty = "empty";
}
