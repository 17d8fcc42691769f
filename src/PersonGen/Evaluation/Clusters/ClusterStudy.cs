using System.Text.Json;
using PersonGen.Evaluation.Studies;

namespace PersonGen.Evaluation.Clusters;

/// <summary>How far one shard of a study has got, read from its results database.</summary>
public sealed record ShardState(int Index, int Done, int Total)
{
    public bool Complete => Done == Total;
}

/// <summary>
/// What the Slurm and Kubernetes writers share: the study copy that cluster tasks run (model paths made absolute, so a
/// task finds them whatever its working folder), shard progress from the shard databases, and shell quoting.
/// </summary>
public static class ClusterStudy
{
    /// <summary>The file name of the study copy inside <c>DIR/slurm</c> or <c>DIR/k8s</c>.</summary>
    public const string StudyFileName = "study.json";

    /// <summary>
    /// Loads <paramref name="studyPath"/>, makes its model paths absolute (a base model that is no path here, such as
    /// a hub id, stays as written) and writes it to <paramref name="folder"/>.
    /// </summary>
    /// <returns>The absolute path of the copy and the study.</returns>
    /// <exception cref="InvalidInputException">The study is invalid, or a concept checkpoint does not exist.</exception>
    public static (string Path, StudyDefinition Study) WriteResolvedCopy(string studyPath, string folder)
    {
        var study = StudyDefinition.Load(studyPath);
        string baseModel = System.IO.Path.GetFullPath(study.BaseModel);
        var resolved = study with
        {
            BaseModel = Directory.Exists(baseModel) || File.Exists(baseModel) ? baseModel : study.BaseModel,
            Concepts = study.Concepts.Select(c => c.Checkpoint is { } checkpoint ? c with { Checkpoint = ExistingCheckpoint(c.Name, checkpoint) } : c).ToArray(),
        };
        Directory.CreateDirectory(folder);
        string path = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, StudyFileName));
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(resolved, new JsonSerializerOptions { WriteIndented = true }));
        return (path, resolved);
    }

    /// <summary>The absolute model paths of a (resolved) study: the base model folder (unless a hub id) and every concept checkpoint.</summary>
    public static IReadOnlyList<string> ModelPaths(StudyDefinition study) =>
        new[] { study.BaseModel }.Concat(study.Concepts.Select(c => c.Checkpoint).OfType<string>()).Where(System.IO.Path.IsPathRooted).ToArray();

    /// <summary>Jobs done and total of each of <paramref name="shardCount"/> shards; a shard without a database has done none.</summary>
    public static IReadOnlyList<ShardState> ReadShards(StudyDefinition study, string outDir, int shardCount)
    {
        var jobs = study.Jobs();
        var states = new List<ShardState>();
        for (int i = 0; i < shardCount; i++)
        {
            var shard = new ShardSpec(i, shardCount);
            var keys = shard.Select(jobs).Select(j => j.Key).ToArray();
            string path = System.IO.Path.Combine(outDir, shard.ResultsFileName);
            int done = 0;
            if (File.Exists(path))
            {
                using var store = StudyResultStore.Open(path);
                var finished = store.FinishedJobKeys();
                done = keys.Count(finished.Contains);
            }
            states.Add(new ShardState(i, done, keys.Length));
        }
        return states;
    }

    /// <summary>A POSIX shell word: single-quoted unless it is made of safe characters only.</summary>
    public static string ShellQuote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '=' or ':' or ',' or '+')
            ? word
            : "'" + word.Replace("'", "'\\''") + "'";

    private static string ExistingCheckpoint(string concept, string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full) && !Directory.Exists(full))
            throw new InvalidInputException($"study concept '{concept}': checkpoint '{path}' not found (looked at {full}): fix \"checkpoint\" in the study file");
        return full;
    }
}
