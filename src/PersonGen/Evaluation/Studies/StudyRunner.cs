using SkiaSharp;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// Runs a study's jobs once each, engine- and metric-agnostic: images go to
/// <c>out/images/&lt;strategy&gt;/&lt;concept&gt;/&lt;prompt&gt;/s&lt;seed&gt;_&lt;i&gt;.png</c>, metric rows to the shard's SQLite
/// file, one transaction per job. A rerun (after a kill or cancellation) skips the finished jobs.
/// </summary>
public sealed class StudyRunner(StudyDefinition study, IStudyEngine engine, IImageScorer scorer, string outputFolder)
{
    /// <summary>Runs the unfinished jobs of <paramref name="shard"/> (the whole study by default).</summary>
    /// <exception cref="OperationCanceledException">Cancelled; finished jobs are kept, the current one is dropped.</exception>
    public StudyRunResult Run(ShardSpec? shard = null, IProgress<StudyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        shard ??= ShardSpec.All;
        var jobs = shard.Select(study.Jobs());
        string resultsPath = Path.Combine(outputFolder, shard.ResultsFileName);
        using var store = StudyResultStore.Open(resultsPath);
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
        var rows = new List<ImageMetricRow>();
        for (int i = 0; i < generated.Images.Count; i++)
        {
            SKBitmap image = generated.Images[i];
            string relative = ImagePath(job, i);
            string full = Path.Combine(outputFolder, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            using (var data = image.Encode(SKEncodedImageFormat.Png, 100)) AtomicFile.WriteAllBytes(full, data.ToArray());
            ImageScore score = scorer.Score(image, job);
            rows.Add(new ImageMetricRow(job.Key, i, job.Strategy, job.Family, job.Concept.Name, job.PromptTemplate, job.Seed,
                score.Identity, score.Context, generated.RowsPerImage, relative));
        }
        return rows;
    }

    /// <summary>The image's path relative to the output folder.</summary>
    public static string ImagePath(StudyJob job, int index) =>
        Path.Combine("images", Slug(job.Strategy), Slug(job.Concept.Name), Slug(job.PromptTemplate), $"s{job.Seed}_{index}.png");

    /// <summary>A file-name-safe form: letters, digits and <c>=.,-</c> kept, everything else <c>_</c>.</summary>
    public static string Slug(string text) =>
        new(text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '=' or '.' or ',' or '-' ? c : '_').ToArray());
}
