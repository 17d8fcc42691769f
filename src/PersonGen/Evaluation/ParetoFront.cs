namespace PersonGen.Evaluation;

/// <summary>The non-dominated points of a set, maximising both context (x) and identity (y).</summary>
public static class ParetoFront
{
    /// <summary>
    /// Points that no other point dominates (at least as good on both axes and better on one), sorted by
    /// increasing context. Exact duplicates are all kept.
    /// </summary>
    public static IReadOnlyList<ParetoPoint> Of(IReadOnlyList<ParetoPoint> points) =>
        points.Where(p => !points.Any(q => Dominates(q, p)))
            .OrderBy(p => p.Context).ThenByDescending(p => p.Identity).ThenBy(p => p.Label, StringComparer.Ordinal)
            .ToArray();

    /// <summary>True when <paramref name="a"/> is at least as good as <paramref name="b"/> on both axes and better on one.</summary>
    public static bool Dominates(ParetoPoint a, ParetoPoint b) =>
        a.Context >= b.Context && a.Identity >= b.Identity && (a.Context > b.Context || a.Identity > b.Identity);
}
