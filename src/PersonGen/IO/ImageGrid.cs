using SkiaSharp;

namespace PersonGen.IO;

/// <summary>
/// Contact sheets: images laid out row by row in equal cells on a white background, each with an optional
/// caption (word-wrapped, at most <see cref="MaxCaptionLines"/> lines) under it.
/// Width = columns·cellW + (columns + 1)·spacing; height = rows·(cellH + captionH) + (rows + 1)·spacing, where the
/// cell is the largest image and captionH = 0 without captions.
/// </summary>
public static class ImageGrid
{
    /// <summary>Caption lines kept per cell; longer captions end in an ellipsis.</summary>
    public const int MaxCaptionLines = 3;

    private static readonly Lazy<SKTypeface> Typeface = new(FindTypeface);

    /// <summary>Composes <paramref name="images"/> into one RGBA bitmap that the caller disposes.</summary>
    /// <param name="images">Images in reading order; smaller ones are centered in their cell.</param>
    /// <param name="columns">Cells per row (≥ 1).</param>
    /// <param name="captions">One caption per image, or null for none.</param>
    /// <param name="spacing">Pixels between cells and around the grid (≥ 0).</param>
    /// <param name="fontSize">Caption size in pixels; 0 picks one from the cell width.</param>
    /// <exception cref="InvalidInputException">No images, a bad column count or spacing, or a caption count that differs from the image count.</exception>
    public static SKBitmap Create(IReadOnlyList<SKBitmap> images, int columns, IReadOnlyList<string>? captions = null,
        int spacing = 4, float fontSize = 0)
    {
        if (images.Count == 0) throw new InvalidInputException("An image grid needs at least one image");
        if (columns < 1) throw new InvalidInputException($"Grid columns = {columns} is invalid; use 1 or more");
        if (spacing < 0) throw new InvalidInputException($"Grid spacing = {spacing} is invalid; use 0 or more");
        if (captions is not null && captions.Count != images.Count)
            throw new InvalidInputException($"The grid has {images.Count} images but {captions.Count} captions; give one caption per image");

        int cellWidth = images.Max(i => i.Width), cellHeight = images.Max(i => i.Height);
        int cols = Math.Min(columns, images.Count), rows = (images.Count + columns - 1) / columns;
        using var font = new SKFont(Typeface.Value, fontSize > 0 ? fontSize : Math.Clamp(cellWidth / 16f, 10f, 32f));
        float lineHeight = font.Spacing;
        var lines = captions?.Select(c => Wrap(c, font, cellWidth)).ToList();
        int captionHeight = lines is null ? 0 : (int)Math.Ceiling(lines.Max(l => l.Count) * lineHeight) + spacing;

        int width = cols * cellWidth + (cols + 1) * spacing;
        int height = rows * (cellHeight + captionHeight) + (rows + 1) * spacing;
        var grid = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(grid);
        canvas.Clear(SKColors.White);
        using var textPaint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        for (int i = 0; i < images.Count; i++)
        {
            int left = spacing + (i % columns) * (cellWidth + spacing);
            int top = spacing + (i / columns) * (cellHeight + captionHeight + spacing);
            var image = images[i];
            canvas.DrawBitmap(image, left + (cellWidth - image.Width) / 2, top + (cellHeight - image.Height) / 2);
            if (lines is null) continue;
            canvas.Save();
            canvas.ClipRect(SKRect.Create(left, top + cellHeight, cellWidth, captionHeight));
            float baseline = top + cellHeight + spacing - font.Metrics.Ascent;
            foreach (string line in lines[i])
            {
                canvas.DrawText(line, left + cellWidth / 2f, baseline, SKTextAlign.Center, font, textPaint);
                baseline += lineHeight;
            }
            canvas.Restore();
        }
        return grid;
    }

    // Greedy word wrap to the cell width; a word wider than the cell gets a line of its own (clipped when drawn).
    private static List<string> Wrap(string caption, SKFont font, float maxWidth)
    {
        var lines = new List<string>();
        string current = "";
        foreach (string word in caption.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = current.Length == 0 ? word : current + " " + word;
            if (current.Length > 0 && font.MeasureText(candidate) > maxWidth)
            {
                lines.Add(current);
                current = word;
            }
            else current = candidate;
        }
        if (current.Length > 0) lines.Add(current);
        if (lines.Count > MaxCaptionLines)
        {
            lines = lines[..MaxCaptionLines];
            lines[^1] += "…";
        }
        return lines.Count == 0 ? [""] : lines;
    }

    // Skia's Linux build without fontconfig may have no default font; fall back to a common system TrueType font.
    private static SKTypeface FindTypeface()
    {
        var fallback = SKTypeface.Default;
        if (fallback.GlyphCount > 0) return fallback;
        string[] candidates =
        [
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/TTF/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
            "/System/Library/Fonts/Helvetica.ttc",
            @"C:\Windows\Fonts\arial.ttf",
        ];
        foreach (string path in candidates)
        {
            if (File.Exists(path) && SKTypeface.FromFile(path) is { GlyphCount: > 0 } typeface) return typeface;
        }
        return fallback;
    }
}
