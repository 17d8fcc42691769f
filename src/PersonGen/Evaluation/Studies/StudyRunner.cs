using SkiaSharp;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// Runs a study's jobs once each, engine- and metric-agnostic: images go to
/// <c>out/images/&lt;strategy&gt;/&lt;concept&gt;/&lt;prompt&gt;/s&lt;seed&gt;_&lt;i&gt;.png</c>, metric rows to the shard's SQLite
/// file, one transaction per job. A rerun (after a kill or cancellation) skips the finished jobs; results of a
/// different study (<see cref="StudyFingerprint"/>) are refused, and a second run on the same results file is refused
/// while the first holds its lock.
/// </summary>
public sealed class StudyRunner(StudyDefinition study, IStudyEngine engine, IReadOnlyList<IImageMetric> metrics, string outputFolder)
{
    private readonly StudyMetrics _metrics = StudyMetrics.Of(study, metrics);

    /// <summary>Runs the unfinished jobs of <paramref name="shard"/> (the whole study by default).</summary>
    /// <exception cref="OperationCanceledException">Cancelled; finished jobs are kept, the current one is dropped.</exception>
    /// <exception cref="PersonGenException">The results belong to another study, or another run holds them, or a metric returned the wrong count.</exception>
    public StudyRunResult Run(ShardSpec? shard = null, IProgress<StudyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        shard ??= ShardSpec.All;
        var jobs = shard.Select(study.Jobs());
        string fingerprint = StudyFingerprint.Of(study);
        string resultsPath = Path.Combine(outputFolder, shard.ResultsFileName);
        using var hold = ResultsLock.Acquire(resultsPath);
        using var store = StudyResultStore.Open(resultsPath);
        store.BindStudy(fingerprint, study.SourcePath);
        var finished = store.FinishedJobKeys();
        int ran = 0, done = 0;
        foreach (var job in jobs)
        {
            if (!finished.Contains(job.Key))
            {
                cancellationToken.ThrowIfCancellationRequested();
                store.Append(RunJob(job, cancellationToken));
                ran++;
            }
            progress?.Report(new StudyProgress(++done, jobs.Count, job.Key));
        }
        return new StudyRunResult(jobs.Count, ran, jobs.Count - ran, resultsPath);
    }

    private List<ImageMetricRow> RunJob(StudyJob job, CancellationToken cancellationToken)
    {
        using var generated = engine.Generate(job, cancellationToken);
        if (generated.Images.Count != job.ImagesPerPrompt)
            throw new PersonGenException($"engine returned {generated.Images.Count} images for job '{job.Key}', expected {job.ImagesPerPrompt}");
        var scores = _metrics.All.Select(metric => (metric.Name, Values: metric.Score(generated.Images, job))).ToArray();
        foreach (var (name, values) in scores.Where(s => s.Values.Count != generated.Images.Count))
            throw new PersonGenException($"metric '{name}' returned {values.Count} values for the {generated.Images.Count} images of job '{job.Key}': return one per image");
        var rows = new List<ImageMetricRow>();
        for (int i = 0; i < generated.Images.Count; i++)
        {
            SKBitmap image = generated.Images[i];
            string relative = ImagePath(job, i);
            string full = Path.Combine(outputFolder, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            using (var data = image.Encode(SKEncodedImageFormat.Png, 100)) AtomicFile.WriteAllBytes(full, data.ToArray());
            rows.Add(new ImageMetricRow(job.Key, i, job.Strategy, job.Family, job.Concept.Name, job.PromptTemplate, job.Seed,
                scores.ToDictionary(s => s.Name, s => s.Values[i], StringComparer.Ordinal), generated.RowsPerImage, relative));
        }
        return rows;
    }

    /// <summary>The image's path relative to the output folder; distinct jobs get distinct paths (see <see cref="FolderName"/>).</summary>
    public static string ImagePath(StudyJob job, int index) =>
        Path.Combine("images", FolderName(job.Strategy), FolderName(job.Concept.Name), FolderName(job.PromptTemplate), $"s{job.Seed}_{index}.png");

    /// <summary>
    /// A folder name unique to <paramref name="text"/>: its <see cref="Slug"/> when that is the text itself and short,
    /// else the slug cut to 40 characters plus 8 hex digits of the text's SHA-256, so texts that slug alike
    /// ("on sand!" / "on sand?") or long prompts stay apart and within file-name limits.
    /// </summary>
    public static string FolderName(string text)
    {
        string slug = Slug(text);
        if (slug == text && slug.Length <= MaxPlainName) return slug;
        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..8];
        return $"{slug[..Math.Min(slug.Length, 40)]}-{hash}";
    }

    private const int MaxPlainName = 64;

    /// <summary>A file-name-safe form: letters, digits and <c>=.,-</c> kept, everything else <c>_</c>.</summary>
    public static string Slug(string text) =>
        new(text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '=' or '.' or ',' or '-' ? c : '_').ToArray());
}
