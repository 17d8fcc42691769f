using PersonGen.Evaluation.Studies;
using SkiaSharp;

namespace PersonGen.World;

/// <summary>
/// The shapes world's two metrics, exact through <see cref="ShapesAnalyzer"/>: <see cref="Identity"/> against the
/// built-in concept named by the job's concept, <see cref="Context"/> against the job's concept prompt; both in [0, 1].
/// </summary>
public sealed class ShapesMetric : IImageMetric
{
    private readonly Func<ShapeReading, StudyJob, double> _score;

    private ShapesMetric(string name, Func<ShapeReading, StudyJob, double> score)
    {
        Name = name;
        _score = score;
    }

    /// <summary>Identity fidelity (the CLIP-I analogue).</summary>
    /// <remarks>Throws <see cref="InvalidInputException"/> from <c>Score</c> when the job's concept is not a built-in shapes concept.</remarks>
    public static ShapesMetric Identity { get; } = new("identity", (reading, job) => ShapesFidelity.Identity(reading, ShapesWorld.Concept(job.Concept.Name)));

    /// <summary>Prompt fidelity (the CLIP-T analogue).</summary>
    public static ShapesMetric Context { get; } = new("context", (reading, job) => ShapesFidelity.Context(reading, job.ConceptPrompt));

    /// <summary>The world's metrics in the order of a study's default <c>"metrics"</c>.</summary>
    public static IReadOnlyList<IImageMetric> All { get; } = [Identity, Context];

    public string Name { get; }

    public bool HigherIsBetter => true;

    /// <summary>Registers the world's metrics in <see cref="MetricRegistry"/>.</summary>
    public static void Register()
    {
        foreach (var metric in All) MetricRegistry.Register(metric);
    }

    public IReadOnlyList<double> Score(IReadOnlyList<SKBitmap> images, StudyJob job)
    {
        var analyzer = new ShapesAnalyzer();
        return images.Select(image => _score(analyzer.Analyze(image), job)).ToArray();
    }
}
