namespace PersonGen.Evaluation.Studies;

/// <summary>Aggregates per-image rows into per-strategy means, following reference-spec §4.7.</summary>
public static class StudyAggregation
{
    /// <summary>
    /// One aggregate per strategy, in <paramref name="order"/> (specs not listed follow in ordinal order). Each metric:
    /// mean over images per (concept, prompt), then over prompts per concept, then over concepts. Front membership is
    /// over <paramref name="metrics"/>' x and y.
    /// </summary>
    public static IReadOnlyList<StrategyAggregate> PerStrategy(IReadOnlyList<ImageMetricRow> rows, StudyMetrics metrics, IReadOnlyList<string>? order = null)
    {
        var rank = (order ?? []).Select((s, i) => (s, i)).GroupBy(p => p.s).ToDictionary(g => g.Key, g => g.First().i, StringComparer.Ordinal);
        var means = rows.GroupBy(r => r.Strategy, StringComparer.Ordinal)
            .OrderBy(g => rank.GetValueOrDefault(g.Key, int.MaxValue)).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new StrategyAggregate(g.Key, g.First().Family,
                metrics.Names.ToDictionary(name => name, name => NestedMean(g, r => r.Values[name]), StringComparer.Ordinal),
                g.Average(r => r.RowsPerImage), g.Count(), OnFront: false))
            .ToArray();
        var front = ParetoFront.Of(means.Select(a => Point(a, metrics)).ToArray()).Select(p => p.Label).ToHashSet(StringComparer.Ordinal);
        return means.Select(a => a with { OnFront = front.Contains(a.Strategy) }).ToArray();
    }

    /// <summary>The aggregate as a point to maximise on both axes: a lower-is-better metric enters negated.</summary>
    public static ParetoPoint Point(StrategyAggregate aggregate, StudyMetrics metrics) =>
        new(aggregate.Strategy, Oriented(aggregate, metrics.X), Oriented(aggregate, metrics.Y));

    private static double Oriented(StrategyAggregate aggregate, IImageMetric metric) =>
        metric.HigherIsBetter ? aggregate.Values[metric.Name] : -aggregate.Values[metric.Name];

    private static double NestedMean(IEnumerable<ImageMetricRow> rows, Func<ImageMetricRow, double> value) =>
        rows.GroupBy(r => r.Concept, StringComparer.Ordinal)
            .Select(concept => concept.GroupBy(r => r.Prompt, StringComparer.Ordinal).Select(prompt => prompt.Average(value)).Average())
            .Average();
}
