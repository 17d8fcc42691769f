namespace PersonGen.Training;

/// <summary>
/// Validation images during concept training: at each validation point the current concept generates
/// <see cref="ImagesPerPrompt"/> images per prompt (DDIM, <see cref="Steps"/> steps, classifier-free guidance with
/// <c>persongen generate</c>'s default scale, seed <see cref="Seed"/>) into one captioned grid
/// <c>&lt;OutDir&gt;/validation/step-&lt;k&gt;.png</c>. No prompts: no validation.
/// </summary>
public sealed record ValidationOptions
{
    /// <summary>The folder under the output folder that holds the grids.</summary>
    public const string FolderName = "validation";

    /// <summary>Prompts; each must contain the placeholder token.</summary>
    public IReadOnlyList<string> Prompts { get; init; } = [];

    /// <summary>Validate every this many steps; 0 = at each checkpoint (<see cref="ConceptTrainingRequest.SaveEvery"/>). The last step is always validated.</summary>
    public int Every { get; init; }

    /// <summary>Images per prompt (one grid row per prompt).</summary>
    public int ImagesPerPrompt { get; init; } = 2;

    /// <summary>DDIM sampling steps.</summary>
    public int Steps { get; init; } = 25;

    /// <summary>Seed of the initial noise; the same at every validation point, so grids of different steps compare.</summary>
    public long Seed { get; init; }
}
