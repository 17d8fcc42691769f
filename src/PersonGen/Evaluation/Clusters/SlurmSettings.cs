namespace PersonGen.Evaluation.Clusters;

/// <summary>The <c>#SBATCH</c> settings of a study's array job; null ones are left to the cluster's defaults.</summary>
public sealed record SlurmSettings
{
    public string? Partition { get; init; }
    public int? GpusPerTask { get; init; }
    public int? CpusPerTask { get; init; }
    public string? Memory { get; init; }
    public string? TimeLimit { get; init; }
    public string? Account { get; init; }

    /// <summary>Further lines copied into both scripts as they are; each starts with <c>#SBATCH </c>.</summary>
    public IReadOnlyList<string> ExtraLines { get; init; } = [];
}
