using System.Globalization;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// A deterministic slice of a study: shard <see cref="Index"/> of <see cref="Count"/> (0-based, as Slurm array and
/// Kubernetes indexed-job indices) takes the jobs whose position in <see cref="StudyDefinition.Jobs"/> is
/// <see cref="Index"/> modulo <see cref="Count"/>.
/// </summary>
public sealed record ShardSpec(int Index, int Count)
{
    /// <summary>The whole study.</summary>
    public static ShardSpec All { get; } = new(0, 1);

    /// <summary>Parses <c>i/n</c>, e.g. <c>2/8</c>.</summary>
    /// <exception cref="InvalidInputException">Not of the form i/n with 0 ≤ i &lt; n.</exception>
    public static ShardSpec Parse(string text)
    {
        string[] parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
            && count >= 1 && index < count)
            return new ShardSpec(index, count);
        throw new InvalidInputException($"--shard '{text}' is not i/n with 0 <= i < n: write e.g. --shard 0/4");
    }

    /// <summary>The jobs of this shard, in study order.</summary>
    public IReadOnlyList<StudyJob> Select(IReadOnlyList<StudyJob> jobs) => jobs.Where((_, i) => i % Count == Index).ToArray();

    /// <summary>The results file name of this shard: <c>results.sqlite</c> or <c>results.shard-2-of-8.sqlite</c>.</summary>
    public string ResultsFileName => Count == 1 ? "results.sqlite" : $"results.shard-{Index}-of-{Count}.sqlite";

    public override string ToString() => $"{Index}/{Count}";
}
