using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using ScottPlot;
using SkiaSharp;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// Writes a study's outputs into its folder: <c>images.csv</c> (per-image metrics), <c>aggregates.csv</c>,
/// <c>summary.json</c> (spec → each metric, rows_per_image), <c>pareto.json</c> (front overall and per family),
/// <c>pareto.png</c>/<c>pareto.svg</c> (the study's x and y metrics, one curve per strategy family through
/// its settings in the order of the swept parameters, each point labelled with them), <c>grids/&lt;strategy&gt;.png</c>
/// and <c>report.html</c> showing them with each strategy's cost (and a partial-study notice when one is given).
/// </summary>
public static partial class StudyReport
{
    /// <summary>
    /// Writes every output and returns the per-strategy aggregates; <paramref name="partialNote"/> (e.g. "12 of 30
    /// jobs") marks the report as covering only part of the study.
    /// </summary>
    /// <exception cref="InvalidInputException">There are no rows.</exception>
    public static IReadOnlyList<StrategyAggregate> Write(string outputFolder, IReadOnlyList<ImageMetricRow> rows, StudyMetrics metrics,
        IReadOnlyList<string>? strategyOrder = null, string? partialNote = null)
    {
        if (rows.Count == 0) throw new InvalidInputException($"no results to report in '{outputFolder}': run the study (or merge its shards) first");
        Directory.CreateDirectory(outputFolder);
        var aggregates = StudyAggregation.PerStrategy(rows, metrics, strategyOrder);
        var points = aggregates.Select(a => StudyAggregation.Point(a, metrics)).ToArray();
        var overall = aggregates.Where(a => a.OnFront).Select(a => a.Strategy).ToHashSet(StringComparer.Ordinal);
        var perFamily = aggregates.GroupBy(a => a.Family).ToDictionary(g => g.Key,
            g => ParetoFront.Of(points.Where(p => g.Any(a => a.Strategy == p.Label)).ToArray()).Select(p => p.Label).ToArray());
        double? baseRows = aggregates.Where(a => a.Family == "base").Select(a => (double?)a.RowsPerImage).FirstOrDefault();

        string[] names = metrics.Names.ToArray();
        WriteImagesCsv(Path.Combine(outputFolder, "images.csv"), rows, names);
        WriteAggregatesCsv(Path.Combine(outputFolder, "aggregates.csv"), aggregates, names, baseRows);
        WriteSummary(Path.Combine(outputFolder, "summary.json"), aggregates, names);
        AtomicFile.WriteAllText(Path.Combine(outputFolder, "pareto.json"), JsonSerializer.Serialize(
            new { overall = points.Where(p => overall.Contains(p.Label)).OrderBy(p => p.X).Select(p => p.Label), per_family = perFamily },
            new JsonSerializerOptions { WriteIndented = true }));
        WritePlot(outputFolder, aggregates, metrics);
        var grids = aggregates.ToDictionary(a => a.Strategy, a => WriteGrid(outputFolder, a.Strategy, rows));
        WriteHtml(Path.Combine(outputFolder, "report.html"), aggregates, names, metrics, baseRows, grids, partialNote);
        return aggregates;
    }

    private static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Csv(string field) =>
        field.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;

    private static void WriteImagesCsv(string path, IReadOnlyList<ImageMetricRow> rows, IReadOnlyList<string> metrics)
    {
        var text = new StringBuilder(string.Join(",", ["job_key", "image_index", "strategy", "family", "concept", "prompt", "seed", .. metrics, "rows_per_image", "image_path"]) + "\n");
        foreach (var r in rows)
            text.AppendLine(string.Join(",", [Csv(r.JobKey), r.ImageIndex.ToString(CultureInfo.InvariantCulture), Csv(r.Strategy), r.Family, Csv(r.Concept), Csv(r.Prompt),
                r.Seed.ToString(CultureInfo.InvariantCulture), .. metrics.Select(m => Number(r.Values[m])), Number(r.RowsPerImage), Csv(r.ImagePath)]));
        AtomicFile.WriteAllText(path, text.ToString());
    }

    private static void WriteAggregatesCsv(string path, IReadOnlyList<StrategyAggregate> aggregates, IReadOnlyList<string> metrics, double? baseRows)
    {
        var text = new StringBuilder(string.Join(",", ["strategy", "family", .. metrics, "rows_per_image", "cost_vs_base", "images", "pareto"]) + "\n");
        foreach (var a in aggregates)
            text.AppendLine(string.Join(",", [Csv(a.Strategy), a.Family, .. metrics.Select(m => Number(a.Values[m])), Number(a.RowsPerImage),
                baseRows is { } b ? Number(a.RowsPerImage / b) : "", a.Images.ToString(CultureInfo.InvariantCulture), a.OnFront ? "1" : "0"]));
        AtomicFile.WriteAllText(path, text.ToString());
    }

    private static void WriteSummary(string path, IReadOnlyList<StrategyAggregate> aggregates, IReadOnlyList<string> metrics)
    {
        var summary = aggregates.ToDictionary(a => a.Strategy,
            a => metrics.Select(m => KeyValuePair.Create(m, a.Values[m])).Append(KeyValuePair.Create("rows_per_image", a.RowsPerImage)).ToDictionary());
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static void WritePlot(string outputFolder, IReadOnlyList<StrategyAggregate> aggregates, StudyMetrics metrics)
    {
        double X(StrategyAggregate a) => a.Values[metrics.X.Name];
        double Y(StrategyAggregate a) => a.Values[metrics.Y.Name];
        var plot = new Plot();
        foreach (var family in aggregates.GroupBy(a => a.Family))
        {
            var ordered = Curve(family.ToArray());
            var curve = plot.Add.Scatter(ordered.Select(p => X(p.Aggregate)).ToArray(), ordered.Select(p => Y(p.Aggregate)).ToArray());
            curve.LegendText = family.Key;
            curve.MarkerSize = 8;
            foreach (var (aggregate, label) in ordered.Where(p => p.Label.Length > 0))
            {
                var text = plot.Add.Text(label, X(aggregate), Y(aggregate));
                text.LabelFontSize = 9;
                text.LabelOffsetX = 5;
                text.LabelFontColor = curve.Color;
            }
        }
        var frontPoints = aggregates.Where(a => a.OnFront).OrderBy(X).ToArray();
        var frontLine = plot.Add.Scatter(frontPoints.Select(X).ToArray(), frontPoints.Select(Y).ToArray());
        frontLine.LegendText = "Pareto front";
        frontLine.Color = Colors.Black;
        frontLine.LinePattern = LinePattern.Dashed;
        frontLine.MarkerSize = 0;
        plot.XLabel(metrics.X.Name);
        plot.YLabel(metrics.Y.Name);
        // Fixed limits compare plots of [0, 1] metrics at a glance; other ranges scale to the data.
        if (aggregates.All(a => X(a) is >= 0 and <= 1 && Y(a) is >= 0 and <= 1)) plot.Axes.SetLimits(-0.02, 1.02, -0.02, 1.02);
        plot.ShowLegend();
        plot.Legend.Alignment = Alignment.LowerLeft; // the corner no useful strategy reaches (low identity and context)
        plot.SavePng(Path.Combine(outputFolder, "pareto.png"), 800, 600);
        AtomicFile.WriteAllText(Path.Combine(outputFolder, "pareto.svg"), NumberClipPathsFromZero(plot.GetSvgXml(800, 600)));
    }

    /// <summary>Skia numbers SVG clip paths with a process-wide counter; renumbering per file makes reruns byte-equal.</summary>
    private static string NumberClipPathsFromZero(string svg)
    {
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        return ClipPathId().Replace(svg, m => ids.TryGetValue(m.Value, out var id) ? id : ids[m.Value] = $"cl_{ids.Count}");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\bcl_[0-9a-f]+\b")]
    private static partial System.Text.RegularExpressions.Regex ClipPathId();

    /// <summary>
    /// A family's points in the order of the parameters that vary within it (ordinal key order, numbers by value), so
    /// the curve follows the sweep; each labelled with those parameters (empty for a single setting).
    /// </summary>
    public static IReadOnlyList<(StrategyAggregate Aggregate, string Label)> Curve(IReadOnlyList<StrategyAggregate> family)
    {
        var settings = family.Select(a => (Aggregate: a, Parameters: Parameters(a.Strategy))).ToArray();
        string[] swept = settings.SelectMany(s => s.Parameters.Keys).Distinct().Order(StringComparer.Ordinal)
            .Where(k => settings.Select(s => s.Parameters.GetValueOrDefault(k, "")).Distinct().Count() > 1).ToArray();
        var ordered = settings.ToList();
        ordered.Sort((a, b) => swept.Select(k => CompareValues(a.Parameters.GetValueOrDefault(k, ""), b.Parameters.GetValueOrDefault(k, "")))
            .FirstOrDefault(c => c != 0, string.CompareOrdinal(a.Aggregate.Strategy, b.Aggregate.Strategy)));
        return ordered.Select(s => (s.Aggregate, string.Join(",", swept.Where(s.Parameters.ContainsKey).Select(k => $"{k}={s.Parameters[k]}")))).ToArray();
    }

    private static Dictionary<string, string> Parameters(string spec)
    {
        int colon = spec.IndexOf(':');
        return colon < 0 ? [] : spec[(colon + 1)..].Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
    }

    private static int CompareValues(string a, string b) =>
        double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out double y)
            ? x.CompareTo(y) : string.CompareOrdinal(a, b);

    // Rows = prompts of the strategy's first concept, columns = its images (seed, index), upscaled without smoothing.
    private static string WriteGrid(string outputFolder, string strategy, IReadOnlyList<ImageMetricRow> rows)
    {
        var mine = rows.Where(r => r.Strategy == strategy).ToArray();
        string concept = mine[0].Concept;
        var prompts = mine.Where(r => r.Concept == concept).Select(r => r.Prompt).Distinct().ToArray();
        var columns = mine.Where(r => r.Concept == concept && r.Prompt == prompts[0]).OrderBy(r => r.Seed).ThenBy(r => r.ImageIndex)
            .Select(r => (r.Seed, r.ImageIndex)).ToArray();
        const int cell = 64, gap = 2;
        using var grid = new SKBitmap(columns.Length * (cell + gap) + gap, prompts.Length * (cell + gap) + gap);
        using (var canvas = new SKCanvas(grid))
        {
            canvas.Clear(SKColors.White);
            for (int y = 0; y < prompts.Length; y++)
                for (int x = 0; x < columns.Length; x++)
                {
                    var row = mine.FirstOrDefault(r => r.Concept == concept && r.Prompt == prompts[y] && r.Seed == columns[x].Seed && r.ImageIndex == columns[x].ImageIndex);
                    string? file = row is null ? null : Path.Combine(outputFolder, row.ImagePath);
                    if (file is null || !File.Exists(file)) continue;
                    using var image = SKImage.FromEncodedData(file);
                    if (image is null) continue;
                    var target = SKRect.Create(gap + x * (cell + gap), gap + y * (cell + gap), cell, cell);
                    canvas.DrawImage(image, target, new SKSamplingOptions(SKFilterMode.Nearest));
                }
        }
        string relative = Path.Combine("grids", StudyRunner.FolderName(strategy) + ".png");
        Directory.CreateDirectory(Path.Combine(outputFolder, "grids"));
        using var data = grid.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(Path.Combine(outputFolder, relative), data.ToArray());
        return relative;
    }

    private static void WriteHtml(string path, IReadOnlyList<StrategyAggregate> aggregates, IReadOnlyList<string> names, StudyMetrics metrics,
        double? baseRows, IReadOnlyDictionary<string, string> grids, string? partialNote)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>PersonGen study report</title>");
        html.AppendLine("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}img.grid{image-rendering:pixelated}</style></head><body>");
        html.AppendLine("<h1>Study report</h1>");
        if (partialNote is not null) html.AppendLine($"<p class=\"partial\"><strong>Partial study</strong>: {E(partialNote)}. Figures cover only the finished jobs.</p>");
        html.AppendLine($"<h2>{E(metrics.Y.Name)} vs {E(metrics.X.Name)}</h2><img src=\"pareto.svg\" alt=\"Pareto plot\" width=\"800\">");
        html.AppendLine($"<h2>Strategies</h2><table><tr><th>strategy</th>{string.Concat(names.Select(n => $"<th>{E(n)}</th>"))}<th>UNet rows / image</th><th>cost vs base</th><th>images</th><th>Pareto</th></tr>");
        foreach (var a in aggregates)
            html.AppendLine($"<tr><td>{E(a.Strategy)}</td>{string.Concat(names.Select(n => $"<td>{Number(a.Values[n])}</td>"))}<td>{Number(a.RowsPerImage)}</td>" +
                $"<td>{(baseRows is { } b ? Number(a.RowsPerImage / b) + "×" : "")}</td><td>{a.Images}</td><td>{(a.OnFront ? "✓" : "")}</td></tr>");
        html.AppendLine("</table><h2>Image grids</h2>");
        foreach (var a in aggregates)
            html.AppendLine($"<h3>{E(a.Strategy)} <small>({Number(a.RowsPerImage)} rows/image)</small></h3><img class=\"grid\" src=\"{E(grids[a.Strategy].Replace('\\', '/'))}\" alt=\"{E(a.Strategy)}\">");
        html.AppendLine("</body></html>");
        AtomicFile.WriteAllText(path, html.ToString());
    }
}
