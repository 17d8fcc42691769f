using SkiaSharp;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// A per-image metric of a study, e.g. identity fidelity (CLIP-I analogue) or prompt fidelity (CLIP-T analogue).
/// Studies name metrics by <see cref="Name"/> (<see cref="MetricRegistry"/>); the results store one value per image.
/// </summary>
public interface IImageMetric
{
    /// <summary>The key of the metric in study files, results, CSV columns and summary.json, e.g. <c>identity</c>.</summary>
    string Name { get; }

    /// <summary>True when a larger value is better (the Pareto front maximises it), false when smaller is.</summary>
    bool HigherIsBetter { get; }

    /// <summary>
    /// One value per image of <paramref name="images"/>, all generated for <paramref name="job"/> (its prompt, concept,
    /// class word, placeholder token and the concept's reference images).
    /// </summary>
    IReadOnlyList<double> Score(IReadOnlyList<SKBitmap> images, StudyJob job);
}
