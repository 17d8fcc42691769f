namespace PersonGen.Evaluation.Demo;

/// <summary>Settings of the built-in demo: fine-tune a shapes-world concept, then study every strategy on it.</summary>
public sealed record DemoOptions
{
    /// <summary>Output folder: concept images, checkpoint, study results and report.</summary>
    public required string OutDir { get; init; }

    /// <summary>The base model folder (the shipped shapes-world model).</summary>
    public required string BaseModel { get; init; }

    /// <summary>A built-in concept (<c>ShapesWorld.Concepts</c>); triangles are the shape the shipped model draws best.</summary>
    public string Concept { get; init; } = "checker-triangle";

    /// <summary>
    /// Fine-tuning method (see <c>ConceptTraining.Methods</c>). The whole model: in the measured runs (README) SVDiff
    /// and DreamBooth-qkv at their default rates did not learn the concept within a demo's budget.
    /// </summary>
    public string Method { get; init; } = "full";

    /// <summary>Fine-tuning steps.</summary>
    public int FineTuneSteps { get; init; } = 400;

    /// <summary>Fine-tuning learning rate; null = the method's default.</summary>
    public double? LearningRate { get; init; } = 2e-4;

    /// <summary>Base-world images of the class used for prior preservation (0 = none).</summary>
    public int ClassImages { get; init; } = 16;

    /// <summary>Sampling steps per image.</summary>
    public int Steps { get; init; } = 25;

    public IReadOnlyList<int> Seeds { get; init; } = [0, 1];

    public int ImagesPerPrompt { get; init; } = 4;

    /// <summary>Strategy specs or grids; the default covers all eight strategies.</summary>
    public IReadOnlyList<string> Strategies { get; init; } =
    [
        "base:w=7",
        "superclass:w=7",
        "mixed:ws=1|2|3.5|5,wc=7-ws",
        "switching:w=7,tsw=2|5|10",
        "multistage:wc=4,ws=3,tsw=2|5",
        "masked:tsw=2,wc0=0,ws0=7,wc=3.5,ws=3.5,q=0.5|0.7",
        "profusion:wc=3.5,ws=3.5,r=0.5|1,gr=7",
        "photoswap:w=7,wref=7,sf=1|3,cm=5,sm=8",
    ];
}
