using SkiaSharp;

namespace PersonGen.Evaluation.Studies;

/// <summary>The images of one job and their cost: UNet rows evaluated per image (a row = one latent through the UNet once).</summary>
public sealed class StudyImages(IReadOnlyList<SKBitmap> images, double rowsPerImage) : IDisposable
{
    public IReadOnlyList<SKBitmap> Images { get; } = images;

    public double RowsPerImage { get; } = rowsPerImage;

    public void Dispose()
    {
        foreach (var image in Images) image.Dispose();
    }
}
