using System.Text.Json;
using System.Text.Json.Serialization;
using PersonGen.Evaluation.Studies;

namespace PersonGen.Evaluation.Clusters;

/// <summary>One <c>sbatch</c> of the array (the shards it ran) and of the merge that waits for it.</summary>
public sealed record SlurmSubmission
{
    /// <summary>Null when every shard was already complete and only the merge was queued.</summary>
    [JsonPropertyName("array_job_id")] public string? ArrayJobId { get; init; }
    [JsonPropertyName("merge_job_id")] public required string MergeJobId { get; init; }
    [JsonPropertyName("shards")] public required IReadOnlyList<int> Shards { get; init; }
    [JsonPropertyName("submitted_utc")] public DateTime SubmittedUtc { get; init; }
}

/// <summary><c>DIR/slurm/jobs.json</c>: the study copy, the shard count and every submission, oldest first.</summary>
public sealed record SlurmJobs
{
    public const string FileName = "jobs.json";

    [JsonPropertyName("study")] public required string Study { get; init; }
    [JsonPropertyName("shards")] public required int Shards { get; init; }
    [JsonPropertyName("submissions")] public IReadOnlyList<SlurmSubmission> Submissions { get; init; } = [];

    /// <summary>The array job that last ran shard <paramref name="index"/>, if any.</summary>
    public string? ArrayJobFor(int index) => Submissions.LastOrDefault(s => s.Shards.Contains(index))?.ArrayJobId;

    public static string PathIn(string outDir) => Path.Combine(SlurmScripts.Folder(outDir), FileName);

    /// <summary>Reads the jobs file of a study output folder, or null when none was written.</summary>
    /// <exception cref="InvalidInputException">The file is not a jobs file.</exception>
    public static SlurmJobs? Load(string outDir)
    {
        string path = PathIn(outDir);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<SlurmJobs>(File.ReadAllText(path))
                ?? throw new InvalidInputException($"Slurm jobs file '{path}' is empty: delete it and submit again");
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"Slurm jobs file '{path}' is not valid ({e.Message.Split('\n')[0]}): delete it and submit again");
        }
    }

    public void Save(string outDir) =>
        AtomicFile.WriteAllText(PathIn(outDir), JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));
}
