namespace PersonGen.Evaluation.Studies;

/// <summary>A study's metrics in column order, and the two of them its Pareto front and plot use (x, y).</summary>
public sealed record StudyMetrics
{
    private StudyMetrics(IReadOnlyList<IImageMetric> all, IImageMetric x, IImageMetric y)
    {
        All = all;
        X = x;
        Y = y;
    }

    public IReadOnlyList<IImageMetric> All { get; }

    public IImageMetric X { get; }

    public IImageMetric Y { get; }

    public IEnumerable<string> Names => All.Select(m => m.Name);

    /// <summary>The study's metrics looked up in <see cref="MetricRegistry"/>.</summary>
    /// <exception cref="InvalidInputException">A metric is not registered.</exception>
    public static StudyMetrics Of(StudyDefinition study) => Of(study, MetricRegistry.Resolve(study.Metrics));

    /// <summary>The study's metrics as the given instances, which must carry the names the study lists, in order.</summary>
    /// <exception cref="InvalidInputException">The instances' names differ from the study's <c>"metrics"</c>.</exception>
    public static StudyMetrics Of(StudyDefinition study, IReadOnlyList<IImageMetric> metrics)
    {
        if (!metrics.Select(m => m.Name).SequenceEqual(study.Metrics, StringComparer.Ordinal))
            throw new InvalidInputException($"the study's \"metrics\" are [{string.Join(", ", study.Metrics)}] but the metrics given are [{string.Join(", ", metrics.Select(m => m.Name))}]: pass the metrics the study names");
        return new StudyMetrics(metrics, metrics.First(m => m.Name == study.Axes.X), metrics.First(m => m.Name == study.Axes.Y));
    }
}
