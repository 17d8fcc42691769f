namespace PersonGen.Evaluation.Studies;

/// <summary>
/// The metrics a study file can name under <c>"metrics"</c>. A new metric is one <see cref="IImageMetric"/> class plus
/// one <see cref="Register"/> call; the world registers its own (identity, context) the same way.
/// </summary>
public static class MetricRegistry
{
    private static readonly Dictionary<string, IImageMetric> Metrics = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();

    /// <summary>Registers <paramref name="metric"/> under its name; registering the same name again replaces it.</summary>
    /// <exception cref="ArgumentException">The metric's name is empty or not a plain key.</exception>
    public static void Register(IImageMetric metric)
    {
        if (!IsKey(metric.Name)) throw new ArgumentException($"metric name '{metric.Name}' must be letters, digits, '_' or '-'", nameof(metric));
        lock (Gate) Metrics[metric.Name] = metric;
    }

    /// <summary>The names registered so far, in ordinal order.</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (Gate) return Metrics.Keys.Order(StringComparer.Ordinal).ToArray();
        }
    }

    /// <summary>The metrics named by <paramref name="names"/>, in that order.</summary>
    /// <exception cref="InvalidInputException">A name is not registered.</exception>
    public static IReadOnlyList<IImageMetric> Resolve(IReadOnlyList<string> names)
    {
        lock (Gate)
        {
            return names.Select(name => Metrics.TryGetValue(name, out var metric) ? metric
                : throw new InvalidInputException(Metrics.Count == 0
                    ? $"metric '{name}' in \"metrics\" is not registered: no metrics are registered"
                    : $"metric '{name}' in \"metrics\" is not registered: did you mean '{NearestName.Of(name, Metrics.Keys.ToArray())}'?")).ToArray();
        }
    }

    /// <summary>True for names usable as CSV columns and JSON keys: letters, digits, '_' and '-'.</summary>
    public static bool IsKey(string name) => name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}
