namespace PersonGen.Evaluation.Studies;

/// <summary>Aggregates per-image rows into per-strategy means, following reference-spec §4.7.</summary>
public static class StudyAggregation
{
    /// <summary>
    /// One aggregate per strategy, in <paramref name="order"/> (specs not listed follow in ordinal order). Identity and
    /// context: mean over images per (concept, prompt), then over prompts per concept, then over concepts.
    /// </summary>
    public static IReadOnlyList<StrategyAggregate> PerStrategy(IReadOnlyList<ImageMetricRow> rows, IReadOnlyList<string>? order = null)
    {
        var rank = (order ?? []).Select((s, i) => (s, i)).GroupBy(p => p.s).ToDictionary(g => g.Key, g => g.First().i, StringComparer.Ordinal);
        return rows.GroupBy(r => r.Strategy, StringComparer.Ordinal)
            .OrderBy(g => rank.GetValueOrDefault(g.Key, int.MaxValue)).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new StrategyAggregate(g.Key, g.First().Family,
                NestedMean(g, r => r.Identity), NestedMean(g, r => r.Context), g.Average(r => r.RowsPerImage), g.Count()))
            .ToArray();
    }

    private static double NestedMean(IEnumerable<ImageMetricRow> rows, Func<ImageMetricRow, double> value) =>
        rows.GroupBy(r => r.Concept, StringComparer.Ordinal)
            .Select(concept => concept.GroupBy(r => r.Prompt, StringComparer.Ordinal).Select(prompt => prompt.Average(value)).Average())
            .Average();
}
