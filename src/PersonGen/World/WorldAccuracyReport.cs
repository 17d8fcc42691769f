namespace PersonGen.World;

/// <summary>Fractions of generated images whose background, shape and colour match the prompt.</summary>
public sealed record WorldAccuracyReport(IReadOnlyList<WorldAccuracyRow> Rows)
{
    public double Background => Rows.Count == 0 ? 0 : Rows.Average(r => r.Background ? 1.0 : 0.0);
    public double Shape => Rows.Count == 0 ? 0 : Rows.Average(r => r.Shape ? 1.0 : 0.0);
    public double Color => Rows.Count == 0 ? 0 : Rows.Average(r => r.Color ? 1.0 : 0.0);

    /// <summary>Accuracy of one attribute per value of a grouping key (e.g. per shape), for the table in TRAINING.md.</summary>
    public IReadOnlyDictionary<TKey, (double Background, double Shape, double Color, int Images)> By<TKey>(Func<HeldOutCombination, TKey> key)
        where TKey : notnull =>
        Rows.GroupBy(r => key(r.Wanted)).ToDictionary(g => g.Key, g =>
            (g.Average(r => r.Background ? 1.0 : 0.0), g.Average(r => r.Shape ? 1.0 : 0.0), g.Average(r => r.Color ? 1.0 : 0.0), g.Count()));
}
