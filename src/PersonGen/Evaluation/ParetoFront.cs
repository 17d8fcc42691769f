namespace PersonGen.Evaluation;

/// <summary>The non-dominated points of a set, maximising both x and y.</summary>
public static class ParetoFront
{
    /// <summary>
    /// Values closer than this count as equal: study means of the same images summed in a different order (282/288
    /// against the mean of per-prompt means) differ in the last bits, which must not decide membership.
    /// </summary>
    public const double DefaultTolerance = 1e-9;

    /// <summary>
    /// Points that no other point dominates (at least as good on both axes and better on one, beyond
    /// <paramref name="tolerance"/>), sorted by increasing x. Ties within the tolerance are all kept.
    /// </summary>
    public static IReadOnlyList<ParetoPoint> Of(IReadOnlyList<ParetoPoint> points, double tolerance = DefaultTolerance) =>
        points.Where(p => !points.Any(q => Dominates(q, p, tolerance)))
            .OrderBy(p => p.X).ThenByDescending(p => p.Y).ThenBy(p => p.Label, StringComparer.Ordinal)
            .ToArray();

    /// <summary>
    /// True when <paramref name="a"/> is at least as good as <paramref name="b"/> on both axes and better on one, where
    /// differences up to <paramref name="tolerance"/> are ties.
    /// </summary>
    public static bool Dominates(ParetoPoint a, ParetoPoint b, double tolerance = DefaultTolerance) =>
        a.X >= b.X - tolerance && a.Y >= b.Y - tolerance
        && (a.X > b.X + tolerance || a.Y > b.Y + tolerance);
}
