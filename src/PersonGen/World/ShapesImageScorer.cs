using PersonGen.Evaluation.Studies;
using SkiaSharp;

namespace PersonGen.World;

/// <summary>
/// Scores shapes-world images exactly with <see cref="ShapesAnalyzer"/>: identity against the built-in concept named
/// by the job's concept, context against the job's concept prompt.
/// </summary>
public sealed class ShapesImageScorer : IImageScorer
{
    private readonly ShapesAnalyzer _analyzer = new();

    /// <exception cref="InvalidInputException">The job's concept is not a built-in shapes concept.</exception>
    public ImageScore Score(SKBitmap image, StudyJob job)
    {
        ShapesConcept concept = ShapesWorld.Concept(job.Concept.Name);
        ShapeReading reading = _analyzer.Analyze(image);
        return new ImageScore(ShapesFidelity.Identity(reading, concept), ShapesFidelity.Context(reading, job.ConceptPrompt));
    }
}
