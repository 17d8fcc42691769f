using SkiaSharp;

namespace PersonGen.World;

/// <summary>
/// Reads an image of the shapes world back, deterministically: background = nearest palette colour of the
/// border median; object mask = largest connected region far from that background; shape = best template IoU
/// over a small search of placements around the mask's bounding box; colours = nearest palette colours of the
/// object's clean pixels; pattern = how often neighbouring pixels share a colour along rows and columns.
/// </summary>
public sealed class ShapesAnalyzer
{
    private const double MaskDistance = 40;
    private const double CleanColorDistance = 60;
    private const double SecondColorShare = 0.15;

    /// <summary>Analyses an RGB bitmap of any square size.</summary>
    public ShapeReading Analyze(SKBitmap image)
    {
        int w = image.Width, h = image.Height;
        var rgb = new double[w * h, 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                SKColor p = image.GetPixel(x, y);
                rgb[y * w + x, 0] = p.Red;
                rgb[y * w + x, 1] = p.Green;
                rgb[y * w + x, 2] = p.Blue;
            }
        return Analyze(rgb, w, h);
    }

    private static ShapeReading Analyze(double[,] rgb, int w, int h)
    {
        double[] border = BorderMedian(rgb, w, h);
        BackgroundKind background = Enum.GetValues<BackgroundKind>()
            .MinBy(b => Distance(border, ShapesPalette.Rgb(b)));

        var far = new bool[w * h];
        for (int i = 0; i < w * h; i++)
            far[i] = Math.Sqrt(Sq(rgb[i, 0] - border[0]) + Sq(rgb[i, 1] - border[1]) + Sq(rgb[i, 2] - border[2])) > MaskDistance;
        bool[] mask = LargestComponent(far, w, h);
        if (mask.Count(m => m) < 4) return new ShapeReading(background, w, mask, null, null, []);

        ShapeKind shape = ClassifyShape(mask, w, h);
        var (colors, pattern) = ReadColors(rgb, mask, w, h);
        return new ShapeReading(background, w, mask, shape, pattern, colors);
    }

    private static double[] BorderMedian(double[,] rgb, int w, int h)
    {
        var ring = new List<int>();
        for (int x = 0; x < w; x++) { ring.Add(x); ring.Add((h - 1) * w + x); }
        for (int y = 1; y < h - 1; y++) { ring.Add(y * w); ring.Add(y * w + w - 1); }
        var median = new double[3];
        for (int c = 0; c < 3; c++)
        {
            var values = ring.Select(i => rgb[i, c]).Order().ToArray();
            median[c] = values[values.Length / 2];
        }
        return median;
    }

    private static bool[] LargestComponent(bool[] on, int w, int h)
    {
        var label = new int[w * h];
        int best = 0, bestSize = 0, next = 0;
        var stack = new Stack<int>();
        for (int start = 0; start < w * h; start++)
        {
            if (!on[start] || label[start] != 0) continue;
            int id = ++next, size = 0;
            label[start] = id;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int i = stack.Pop();
                size++;
                int x = i % w, y = i / w;
                foreach (int j in (int[])[x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, y > 0 ? i - w : -1, y < h - 1 ? i + w : -1])
                {
                    if (j < 0 || !on[j] || label[j] != 0) continue;
                    label[j] = id;
                    stack.Push(j);
                }
            }
            if (size > bestSize) { bestSize = size; best = id; }
        }
        return label.Select(l => l == best && best != 0).ToArray();
    }

    private static ShapeKind ClassifyShape(bool[] mask, int w, int h)
    {
        int minX = w, maxX = -1, minY = h, maxY = -1;
        for (int i = 0; i < mask.Length; i++)
        {
            if (!mask[i]) continue;
            int x = i % w, y = i / w;
            minX = Math.Min(minX, x); maxX = Math.Max(maxX, x);
            minY = Math.Min(minY, y); maxY = Math.Max(maxY, y);
        }
        double cx0 = (minX + maxX + 1) / 2.0, cy0 = (minY + maxY + 1) / 2.0;
        double side0 = Math.Max(maxX - minX + 1, maxY - minY + 1);
        ShapeKind best = ShapeKind.Square;
        double bestIou = -1;
        foreach (ShapeKind shape in Enum.GetValues<ShapeKind>())
            for (double ds = -1; ds <= 1.01; ds += 0.5)
                for (double dx = -0.5; dx <= 0.51; dx += 0.25)
                    for (double dy = -0.5; dy <= 0.51; dy += 0.25)
                    {
                        double iou = TemplateIou(shape, mask, w, (minX, maxX, minY, maxY), cx0 + dx, cy0 + dy, side0 + ds);
                        if (iou > bestIou) { bestIou = iou; best = shape; }
                    }
        return best;
    }

    // Placements stay within one pixel of the mask's bounding box, so only that window can differ.
    private static double TemplateIou(ShapeKind shape, bool[] mask, int w, (int MinX, int MaxX, int MinY, int MaxY) box,
        double cx, double cy, double side)
    {
        int intersection = 0, union = 0;
        double half = side / 2;
        for (int y = Math.Max(0, box.MinY - 1); y <= Math.Min(mask.Length / w - 1, box.MaxY + 1); y++)
            for (int x = Math.Max(0, box.MinX - 1); x <= Math.Min(w - 1, box.MaxX + 1); x++)
            {
                int inside = 0;
                for (int sy = 0; sy < 4; sy++)
                    for (int sx = 0; sx < 4; sx++)
                        if (Contains(shape, (x + (sx + 0.5) / 4 - cx) / half, (y + (sy + 0.5) / 4 - cy) / half)) inside++;
                bool t = inside >= 6, m = mask[y * w + x];
                if (t && m) intersection++;
                if (t || m) union++;
            }
        return union == 0 ? 0 : (double)intersection / union;
    }

    // Shape geometry in box coordinates u, v ∈ [-1, 1] (v grows downwards), as the renderer draws it.
    private static bool Contains(ShapeKind shape, double u, double v) => shape switch
    {
        ShapeKind.Circle => u * u + v * v <= 1,
        ShapeKind.Square => Math.Abs(u) <= 1 && Math.Abs(v) <= 1,
        ShapeKind.Triangle => v <= 1 && Math.Abs(u) <= (v + 1) / 2,
        ShapeKind.Cross => (Math.Abs(u) <= 1 && Math.Abs(v) <= 1.0 / 3) || (Math.Abs(u) <= 1.0 / 3 && Math.Abs(v) <= 1),
        _ => false,
    };

    private static (IReadOnlyList<ShapeColor> Colors, PatternKind? Pattern) ReadColors(double[,] rgb, bool[] mask, int w, int h)
    {
        var palette = Enum.GetValues<ShapeColor>();
        var clean = new int[w * h];
        Array.Fill(clean, -1);
        var counts = new int[palette.Length];
        for (int i = 0; i < mask.Length; i++)
        {
            if (!mask[i]) continue;
            double[] p = [rgb[i, 0], rgb[i, 1], rgb[i, 2]];
            ShapeColor nearest = palette.MinBy(c => Distance(p, ShapesPalette.Rgb(c)));
            if (Distance(p, ShapesPalette.Rgb(nearest)) > CleanColorDistance) continue;
            clean[i] = (int)nearest;
            counts[(int)nearest]++;
        }
        int total = counts.Sum();
        if (total == 0) return ([], null);
        var ranked = Enumerable.Range(0, palette.Length).OrderByDescending(c => counts[c]).ThenBy(c => c).ToArray();
        if (counts[ranked[1]] < Math.Max(2, SecondColorShare * total)) return ([(ShapeColor)ranked[0]], PatternKind.Solid);

        int first = ranked[0], second = ranked[1];
        bool TwoTone(int i) => clean[i] == first || clean[i] == second;
        int rowPairs = 0, rowSame = 0, columnPairs = 0, columnSame = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = y * w + x;
                if (!TwoTone(i)) continue;
                if (x + 1 < w && TwoTone(i + 1)) { rowPairs++; if (clean[i] == clean[i + 1]) rowSame++; }
                if (y + 1 < h && TwoTone(i + w)) { columnPairs++; if (clean[i] == clean[i + w]) columnSame++; }
            }
        double rowAgreement = rowPairs == 0 ? 1 : (double)rowSame / rowPairs;
        double columnAgreement = columnPairs == 0 ? 1 : (double)columnSame / columnPairs;
        PatternKind pattern = rowAgreement >= 0.85 && columnAgreement < 0.8 ? PatternKind.Stripes : PatternKind.Checker;
        return ([(ShapeColor)first, (ShapeColor)second], pattern);
    }

    private static double Distance(double[] p, SKColor c) => Math.Sqrt(Sq(p[0] - c.Red) + Sq(p[1] - c.Green) + Sq(p[2] - c.Blue));

    private static double Sq(double v) => v * v;
}
