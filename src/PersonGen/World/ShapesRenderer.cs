using System.Runtime.InteropServices;
using SkiaSharp;

namespace PersonGen.World;

/// <summary>
/// Draws a <see cref="ShapeScene"/> with SkiaSharp at 4× the image size and box-downsamples it, so shape edges are
/// anti-aliased while pattern cells and background texture stay aligned to the output pixel grid.
/// </summary>
public sealed class ShapesRenderer
{
    private const int Supersample = 4;

    /// <param name="imageSize">Output side in pixels (16 by default; 32 and 48 work too).</param>
    /// <exception cref="InvalidInputException">The size is below 8 pixels.</exception>
    public ShapesRenderer(int imageSize = 16)
    {
        if (imageSize < 8) throw new InvalidInputException($"image size {imageSize} is too small for the shapes world: use 8 pixels or more");
        ImageSize = imageSize;
    }

    /// <summary>Side of the rendered images in pixels.</summary>
    public int ImageSize { get; }

    /// <summary>Side, in output pixels, of one stripe or checker cell.</summary>
    public int PatternCell => Math.Max(1, ImageSize / 8);

    /// <summary>Renders the scene as an opaque RGBA8888 bitmap of <see cref="ImageSize"/>² pixels; the caller owns it.</summary>
    public SKBitmap Render(ShapeScene scene)
    {
        int big = ImageSize * Supersample;
        using var canvasBitmap = new SKBitmap(new SKImageInfo(big, big, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(canvasBitmap))
        {
            DrawBackground(canvas, scene.Background, scene.TextureSeed);
            DrawObject(canvas, scene);
        }
        return Downsample(canvasBitmap);
    }

    private void DrawBackground(SKCanvas canvas, BackgroundKind background, int textureSeed)
    {
        var random = new Random(textureSeed);
        SKColor baseColor = ShapesPalette.Rgb(background);
        using var paint = new SKPaint { IsAntialias = false, Style = SKPaintStyle.Fill };
        for (int y = 0; y < ImageSize; y++)
        {
            for (int x = 0; x < ImageSize; x++)
            {
                paint.Color = Shade(baseColor, TextureOffset(background, x, y, random));
                canvas.DrawRect(x * Supersample, y * Supersample, Supersample, Supersample, paint);
            }
        }
    }

    // Simple textures whose amplitude stays far below the distance between any two palette colours.
    private static int TextureOffset(BackgroundKind background, int x, int y, Random random)
    {
        int noise = random.Next(-6, 7);
        return background switch
        {
            BackgroundKind.Stone => noise,
            BackgroundKind.Ocean => y % 4 == 0 ? 12 : 0,
            BackgroundKind.Sand => random.NextDouble() < 0.15 ? -14 : 0,
            BackgroundKind.Grass => x % 3 == 0 ? -12 : noise / 2,
            BackgroundKind.Brick => y % 4 == 3 || (x + (y / 4 % 2) * 2) % 4 == 0 ? 14 : 0,
            _ => 0,
        };
    }

    private void DrawObject(SKCanvas canvas, ShapeScene scene)
    {
        int big = ImageSize * Supersample;
        float side = (float)(scene.Size * big), cx = (float)(scene.CenterX * big), cy = (float)(scene.CenterY * big);
        using var path = ObjectPath(scene.Shape, cx, cy, side);
        canvas.Save();
        canvas.ClipPath(path, SKClipOperation.Intersect, antialias: true);
        using var paint = new SKPaint { IsAntialias = false, Style = SKPaintStyle.Fill };
        int cell = PatternCell;
        for (int y = 0; y < ImageSize; y++)
        {
            for (int x = 0; x < ImageSize; x++)
            {
                bool second = scene.Pattern switch
                {
                    PatternKind.Stripes => y / cell % 2 == 1,
                    PatternKind.Checker => (x / cell + y / cell) % 2 == 1,
                    _ => false,
                };
                paint.Color = ShapesPalette.Rgb(second ? scene.SecondColor : scene.Color);
                canvas.DrawRect(x * Supersample, y * Supersample, Supersample, Supersample, paint);
            }
        }
        canvas.Restore();
    }

    private static SKPath ObjectPath(ShapeKind shape, float cx, float cy, float side)
    {
        float h = side / 2;
        var path = new SKPath();
        switch (shape)
        {
            case ShapeKind.Circle:
                path.AddCircle(cx, cy, h);
                break;
            case ShapeKind.Square:
                path.AddRect(new SKRect(cx - h, cy - h, cx + h, cy + h));
                break;
            case ShapeKind.Triangle:
                path.MoveTo(cx, cy - h);
                path.LineTo(cx + h, cy + h);
                path.LineTo(cx - h, cy + h);
                path.Close();
                break;
            case ShapeKind.Cross:
                float arm = side / 6;
                path.AddRect(new SKRect(cx - h, cy - arm, cx + h, cy + arm));
                path.AddRect(new SKRect(cx - arm, cy - h, cx + arm, cy + h));
                break;
        }
        return path;
    }

    private SKBitmap Downsample(SKBitmap source)
    {
        ReadOnlySpan<byte> pixels = source.GetPixelSpan();
        int sourceRow = source.RowBytes;
        var result = new SKBitmap(new SKImageInfo(ImageSize, ImageSize, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var bytes = new byte[result.RowBytes * ImageSize];
        for (int y = 0; y < ImageSize; y++)
        {
            for (int x = 0; x < ImageSize; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    int sum = 0;
                    for (int dy = 0; dy < Supersample; dy++)
                        for (int dx = 0; dx < Supersample; dx++)
                            sum += pixels[(y * Supersample + dy) * sourceRow + (x * Supersample + dx) * 4 + c];
                    bytes[y * result.RowBytes + x * 4 + c] = (byte)((sum + Supersample * Supersample / 2) / (Supersample * Supersample));
                }
                bytes[y * result.RowBytes + x * 4 + 3] = 255;
            }
        }
        Marshal.Copy(bytes, 0, result.GetPixels(), bytes.Length);
        return result;
    }

    private static SKColor Shade(SKColor color, int offset) => new(
        (byte)Math.Clamp(color.Red + offset, 0, 255),
        (byte)Math.Clamp(color.Green + offset, 0, 255),
        (byte)Math.Clamp(color.Blue + offset, 0, 255));
}
