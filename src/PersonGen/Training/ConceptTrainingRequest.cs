namespace PersonGen.Training;

/// <summary>
/// What <see cref="ConceptTraining.Train"/> does: the method (<c>svdiff</c>, <c>dreambooth</c>, <c>custom-diffusion</c>,
/// <c>textual-inversion</c>, <c>lora</c>, <c>full</c>), the concept photos, placeholder token and class word, and the
/// output folder that receives <c>concept.safetensors</c> and the resumable <c>checkpoint-&lt;step&gt;</c> folders.
/// </summary>
public sealed record ConceptTrainingRequest
{
    /// <summary>Fine-tuning method name.</summary>
    public required string Method { get; init; }

    /// <summary>Folder of JPEG/PNG/WebP photos of the concept.</summary>
    public required string ImageFolder { get; init; }

    /// <summary>Placeholder token (<c>sks</c>; a new token such as <c>&lt;sks-dog&gt;</c> for TI and Custom Diffusion).</summary>
    public required string Token { get; init; }

    /// <summary>The class word (<c>dog</c>); also the initializer of a new token's embedding when it is one token.</summary>
    public required string ClassWord { get; init; }

    /// <summary>Output folder.</summary>
    public required string OutDir { get; init; }

    /// <summary>Optimizer steps (at least 1); null = the method's paper default (<see cref="ConceptTraining.DefaultSteps"/>).</summary>
    public int? Steps { get; init; }

    /// <summary>Learning rate of the main parameter group; null = the method's paper default.</summary>
    public double? LearningRate { get; init; }

    /// <summary>Images per step.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Seed of data order, augmentation, noise and timesteps.</summary>
    public long Seed { get; init; }

    /// <summary>Continue from the newest <c>checkpoint-&lt;step&gt;</c> in <see cref="OutDir"/>.</summary>
    public bool Resume { get; init; }

    /// <summary>Resume even when this request's settings differ from those the checkpoint's run recorded (the new ones apply from its step on).</summary>
    public bool ResumeOverride { get; init; }

    /// <summary>Start afresh in an <see cref="OutDir"/> that already holds a concept or checkpoints (the old checkpoints are deleted).</summary>
    public bool Overwrite { get; init; }

    /// <summary>Write a resumable checkpoint every this many steps (0: only the final concept).</summary>
    public int SaveEvery { get; init; }

    /// <summary>Prior preservation: a folder of class images (with <see cref="ClassPrompt"/>; loss weight 1).</summary>
    public string? ClassImageFolder { get; init; }

    /// <summary>Prompt of the class images (default: the template filled with the class word).</summary>
    public string? ClassPrompt { get; init; }

    /// <summary>Training prompt; <c>{}</c> becomes "token class" (Textual Inversion uses the reference's 27 templates instead).</summary>
    public string PromptTemplate { get; init; } = "a photo of a {}";

    /// <summary>Mirror draws with probability ½.</summary>
    public bool Flip { get; init; }

    /// <summary>Also train the text encoder (SVDiff, DreamBooth, LoRA, full).</summary>
    public bool IncludeTextEncoder { get; init; } = true;

    /// <summary>LoRA rank (default 4).</summary>
    public int? LoraRank { get; init; }

    /// <summary>Validation grids at checkpoints (none by default).</summary>
    public ValidationOptions Validation { get; init; } = new();
}
