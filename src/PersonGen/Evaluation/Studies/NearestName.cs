namespace PersonGen.Evaluation.Studies;

/// <summary>The valid name closest to a misspelt one (edit distance), for "did you mean" messages.</summary>
internal static class NearestName
{
    public static string Of(string name, IEnumerable<string> candidates) =>
        candidates.MinBy(c => Distance(name.ToLowerInvariant(), c.ToLowerInvariant()))!;

    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            previous = current;
        }
        return previous[b.Length];
    }
}
