using SkiaSharp;

namespace PersonGen.Evaluation.Studies;

/// <summary>Scores one generated image of a job: identity fidelity (CLIP-I analogue) and context fidelity (CLIP-T analogue).</summary>
public interface IImageScorer
{
    ImageScore Score(SKBitmap image, StudyJob job);
}
