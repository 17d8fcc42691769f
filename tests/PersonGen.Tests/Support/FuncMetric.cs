using PersonGen.Evaluation.Studies;
using SkiaSharp;

namespace PersonGen.Tests.Support;

/// <summary>A higher-is-better metric scoring each image with a function, for tests that choose the numbers.</summary>
internal sealed class FuncMetric(string name, Func<SKBitmap, StudyJob, double> score) : IImageMetric
{
    public string Name => name;

    public bool HigherIsBetter => true;

    public IReadOnlyList<double> Score(IReadOnlyList<SKBitmap> images, StudyJob job) => images.Select(image => score(image, job)).ToArray();
}
