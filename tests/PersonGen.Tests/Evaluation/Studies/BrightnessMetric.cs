using PersonGen.Evaluation.Studies;
using SkiaSharp;

namespace PersonGen.Tests.Evaluation.Studies;

/// <summary>A metric added in one file: mean pixel brightness in [0, 1], where darker counts as better.</summary>
internal sealed class BrightnessMetric : IImageMetric
{
    public string Name => "brightness";

    public bool HigherIsBetter => false;

    public IReadOnlyList<double> Score(IReadOnlyList<SKBitmap> images, StudyJob job) =>
        images.Select(image => image.Pixels.Average(p => (p.Red + p.Green + p.Blue) / (3 * 255.0))).ToArray();
}
