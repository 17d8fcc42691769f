namespace PersonGen.World.Demo;

/// <summary>Settings of the built-in demo: fine-tune a shapes-world concept, then study every strategy on it.</summary>
public sealed record DemoOptions
{
    /// <summary>Output folder: concept images, checkpoint, study results and report.</summary>
    public required string OutDir { get; init; }

    /// <summary>The base model folder (the shipped shapes-world model).</summary>
    public required string BaseModel { get; init; }

    /// <summary>A built-in concept (<c>ShapesWorld.Concepts</c>); triangles are the shape the shipped model draws best.</summary>
    public string Concept { get; init; } = "checker-triangle";

    /// <summary>Fine-tuning method (see <c>ConceptTraining.Methods</c>): SVDiff, the paper's main parameterization.</summary>
    public string Method { get; init; } = "svdiff";

    /// <summary>Fine-tuning steps.</summary>
    public int FineTuneSteps { get; init; } = 400;

    /// <summary>Fine-tuning learning rate; null = <see cref="DemoLearningRates"/>' rate for the method, else the method's default.</summary>
    public double? LearningRate { get; init; }

    /// <summary>
    /// The demo's rates for this small model. SVDiff's 1e-3 (set for SD's 865M-parameter UNet) leaves the concept
    /// unlearned after 400 steps here (identity 0.60); 1e-2 learns it (README, demo results).
    /// </summary>
    public static IReadOnlyDictionary<string, double> DemoLearningRates { get; } = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["svdiff"] = 1e-2,
        ["full"] = 2e-4,
    };

    /// <summary>The rate fine-tuning uses: <see cref="LearningRate"/>, the demo's rate for the method, or null (the method's default).</summary>
    public double? EffectiveLearningRate => LearningRate ?? (DemoLearningRates.TryGetValue(Method, out double rate) ? rate : null);

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

    /// <summary>Checks the counts; the strategies are checked with the study they make.</summary>
    /// <exception cref="InvalidInputException">A count out of range, named by its demo option.</exception>
    public void Validate()
    {
        if (FineTuneSteps < 1) throw new InvalidInputException($"--finetune-steps {FineTuneSteps} must be at least 1");
        if (Steps < 1) throw new InvalidInputException($"--steps {Steps} must be at least 1");
        if (ClassImages < 0) throw new InvalidInputException($"--class-images {ClassImages} must not be negative (0: no prior preservation)");
        if (ImagesPerPrompt < 1) throw new InvalidInputException($"--images-per-prompt {ImagesPerPrompt} must be at least 1");
        if (LearningRate is { } rate && !(rate > 0 && double.IsFinite(rate)))
            throw new InvalidInputException($"--lr {rate.ToString(System.Globalization.CultureInfo.InvariantCulture)} must be a positive number");
    }
}
