using System.Globalization;
using System.Text.RegularExpressions;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// Joins the shard results of a study into <c>results.sqlite</c> of the output folder. Shards are looked for in the
/// output folder and in any other shard folders given (their images are copied in), and checked against the study:
/// every shard must be the study's (<see cref="StudyFingerprint"/>), and shards that are absent or unfinished are
/// listed in <see cref="Missing"/> before anything is written.
/// </summary>
public sealed partial class StudyMerge
{
    private readonly StudyDefinition _study;
    private readonly string _fingerprint;
    private readonly string _outputFolder;
    private readonly IReadOnlyList<(ShardSpec Shard, string Folder, string File)> _found;

    private StudyMerge(StudyDefinition study, string fingerprint, string outputFolder, IReadOnlyList<(ShardSpec, string, string)> found, IReadOnlyList<string> missing)
    {
        _study = study;
        _fingerprint = fingerprint;
        _outputFolder = outputFolder;
        _found = found;
        Missing = missing;
    }

    /// <summary>Shards found, in index order.</summary>
    public IReadOnlyList<ShardSpec> Found => _found.Select(f => f.Shard).ToArray();

    /// <summary>One entry per shard that is absent or unfinished, e.g. <c>1/3 (no results.shard-1-of-3.sqlite)</c>.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Finds and checks the shards of <paramref name="study"/> in <paramref name="outputFolder"/> and <paramref name="shardFolders"/>.</summary>
    /// <exception cref="PersonGenException">No shards, shards of different counts or studies, or one shard in two folders.</exception>
    public static StudyMerge Plan(StudyDefinition study, string outputFolder, IReadOnlyList<string>? shardFolders = null)
    {
        string fingerprint = StudyFingerprint.Of(study);
        var folders = (shardFolders ?? []).Prepend(outputFolder).Select(f => Path.GetFullPath(f)).Distinct().ToArray();
        var found = new SortedDictionary<int, (ShardSpec Shard, string Folder, string File)>();
        foreach (string folder in folders)
        {
            if (!Directory.Exists(folder))
            {
                if (folder == folders[0]) continue;
                throw new InvalidInputException($"shard folder '{folder}' not found: pass folders that hold results.shard-*.sqlite");
            }
            foreach (string file in Directory.GetFiles(folder, "results.shard-*.sqlite").Order(StringComparer.Ordinal))
            {
                var match = ShardFileName().Match(Path.GetFileName(file));
                if (!match.Success) continue;
                var shard = new ShardSpec(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
                if (shard.Index >= shard.Count) continue; // not a name 'study run --shard' writes
                if (found.Count > 0 && found.First().Value.Shard.Count != shard.Count)
                    throw new InvalidInputException($"shard results of different splits: '{found.First().Value.File}' and '{file}': merge the shards of one --shard i/n split");
                if (found.TryGetValue(shard.Index, out var twin))
                    throw new InvalidInputException($"shard {shard} is in two folders: '{twin.File}' and '{file}': pass one of them");
                found[shard.Index] = (shard, folder, file);
            }
        }
        if (found.Count == 0)
            throw new InvalidInputException($"no shard results (results.shard-*.sqlite) in {string.Join(", ", folders)}: run the study's shards first");

        int count = found.First().Value.Shard.Count;
        var jobs = study.Jobs();
        var missing = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var shard = new ShardSpec(i, count);
            if (!found.TryGetValue(i, out var entry))
            {
                missing.Add($"{shard} (no {shard.ResultsFileName})");
                continue;
            }
            using var store = StudyResultStore.Open(entry.File);
            store.RequireStudy(fingerprint, study.SourcePath);
            var finished = store.FinishedJobKeys();
            var expected = shard.Select(jobs);
            int done = expected.Count(j => finished.Contains(j.Key));
            if (done < expected.Count) missing.Add($"{shard} ({done} of {expected.Count} jobs finished)");
        }
        return new StudyMerge(study, fingerprint, Path.GetFullPath(outputFolder), found.Values.ToArray(), missing);
    }

    /// <summary>Merges the shards found into <c>results.sqlite</c>, copying images from other folders first; returns its path.</summary>
    /// <exception cref="PersonGenException">A shard is being written by a run, an image is missing, or the output belongs to another study.</exception>
    public string Execute()
    {
        string output = Path.Combine(_outputFolder, ShardSpec.All.ResultsFileName);
        using var outputLock = ResultsLock.Acquire(output);
        using var merged = StudyResultStore.Open(output);
        merged.BindStudy(_fingerprint, _study.SourcePath);
        foreach (var (_, folder, file) in _found)
        {
            using var shardLock = ResultsLock.Acquire(file);
            using var shard = StudyResultStore.Open(file);
            var rows = shard.ReadAll();
            if (folder != _outputFolder) CopyImages(folder, rows);
            merged.Append(rows);
        }
        return output;
    }

    private void CopyImages(string folder, IReadOnlyList<ImageMetricRow> rows)
    {
        foreach (var row in rows)
        {
            string source = Path.Combine(folder, row.ImagePath), target = Path.Combine(_outputFolder, row.ImagePath);
            if (File.Exists(target)) continue;
            if (!File.Exists(source)) throw new PersonGenException($"image '{source}' of job '{row.JobKey}' is missing: rerun that shard into its folder");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            AtomicFile.WriteAllBytes(target, File.ReadAllBytes(source));
        }
    }

    [GeneratedRegex(@"^results\.shard-(\d+)-of-(\d+)\.sqlite$")]
    private static partial Regex ShardFileName();
}
