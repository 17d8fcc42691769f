using System.Text.Json;
using PersonGen.Evaluation.Studies;
using PersonGen.Tests.Support;

namespace PersonGen.Tests.Evaluation.Studies;

public class StudyRunnerTests
{
    private static StudyDefinition Study() => new()
    {
        BaseModel = "fake",
        Concepts = [new StudyConcept { Name = "checker-square", ClassWord = "square", Checkpoint = "fake.safetensors" }],
        Prompts = ["a photo of a {} on sand", "a photo of a {} on ocean", "a photo of a {}"],
        Seeds = [0, 1],
        ImagesPerPrompt = 3,
        Strategies = ["base:w=7", "superclass:w=7", "mixed:ws=1..6:2.5,wc=7-ws"],
    };

    private static IReadOnlyList<ImageMetricRow> Rows(string path)
    {
        using var store = StudyResultStore.Open(path);
        return store.ReadAll();
    }

    [Fact]
    public void Jobs_have_deterministic_keys_in_grid_order()
    {
        var jobs = Study().Jobs();
        Assert.Equal(5 * 3 * 2, jobs.Count);
        Assert.Equal("base:w=7|checker-square|a photo of a {} on sand|0", jobs[0].Key);
        Assert.Equal("mixed:wc=6,ws=1", jobs[12].Strategy);
        Assert.Equal("a photo of a sks square on sand", jobs[0].ConceptPrompt);
        Assert.Equal("a photo of a square on sand", jobs[0].SuperclassPrompt);
        Assert.Equal(jobs.Select(j => j.Key), Study().Jobs().Select(j => j.Key));
        Assert.Equal(jobs.Count, jobs.Select(j => j.Key).Distinct().Count());
    }

    [Fact]
    public void A_run_killed_mid_way_resumes_without_duplicate_or_lost_rows()
    {
        string reference = TestPaths.NewTempDirectory(), killed = TestPaths.NewTempDirectory();
        var study = Study();
        new StudyRunner(study, new FakeShapesEngine(), new ShapesImageScorer(), reference).Run();
        var expected = Rows(Path.Combine(reference, "results.sqlite"));
        Assert.Equal(30 * 3, expected.Count);

        // A crash inside job 5 (after 4 committed jobs), then a cancellation after 7 more jobs.
        Assert.Throws<InvalidOperationException>(() => new StudyRunner(study, new FakeShapesEngine(failAtCall: 5), new ShapesImageScorer(), killed).Run());
        Assert.Equal(4 * 3, Rows(Path.Combine(killed, "results.sqlite")).Count);
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress(p => { if (p.Done == 11) cancel.Cancel(); });
        Assert.Throws<OperationCanceledException>(() =>
            new StudyRunner(study, new FakeShapesEngine(), new ShapesImageScorer(), killed).Run(progress: progress, cancellationToken: cancel.Token));
        Assert.Equal(11 * 3, Rows(Path.Combine(killed, "results.sqlite")).Count);

        var engine = new FakeShapesEngine();
        var result = new StudyRunner(study, engine, new ShapesImageScorer(), killed).Run();
        Assert.Equal(19, result.Ran);
        Assert.Equal(11, result.Skipped);
        Assert.Equal(19, engine.Calls);
        Assert.Equal(expected, Rows(Path.Combine(killed, "results.sqlite")));
        Assert.Equal(0, new StudyRunner(study, engine, new ShapesImageScorer(), killed).Run().Ran);
    }

    [Fact]
    public void Shards_merged_equal_an_unsharded_run()
    {
        string whole = TestPaths.NewTempDirectory(), sharded = TestPaths.NewTempDirectory();
        var study = Study();
        new StudyRunner(study, new FakeShapesEngine(), new ShapesImageScorer(), whole).Run();
        var shardFiles = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            var result = new StudyRunner(study, new FakeShapesEngine(), new ShapesImageScorer(), sharded).Run(ShardSpec.Parse($"{i}/3"));
            Assert.Equal(10, result.ShardJobs);
            shardFiles.Add(result.ResultsPath);
        }
        Assert.Empty(Rows(shardFiles[0]).Select(r => r.JobKey).Intersect(Rows(shardFiles[1]).Select(r => r.JobKey)));
        string merged = Path.Combine(sharded, "results.sqlite");
        StudyResultStore.Merge(shardFiles, merged);
        StudyResultStore.Merge(shardFiles.Take(1), merged);
        Assert.Equal(Rows(Path.Combine(whole, "results.sqlite")), Rows(merged));
    }

    [Theory]
    [InlineData("3/3")]
    [InlineData("1")]
    [InlineData("-1/2")]
    [InlineData("a/b")]
    public void Bad_shard_specs_fail_with_one_line(string text)
    {
        var error = Assert.Throws<InvalidInputException>(() => ShardSpec.Parse(text));
        Assert.Contains("--shard", error.Message);
    }

    [Fact]
    public void The_report_writes_summary_tables_plots_grids_and_html()
    {
        string folder = TestPaths.NewTempDirectory();
        var study = Study();
        new StudyRunner(study, new FakeShapesEngine(), new ShapesImageScorer(), folder).Run();
        var aggregates = StudyReport.Write(folder, Rows(Path.Combine(folder, "results.sqlite")), study.ExpandedStrategies());

        Assert.Equal(study.ExpandedStrategies(), aggregates.Select(a => a.Strategy));
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json")));
        var baseEntry = summary.RootElement.GetProperty("base:w=7");
        var superEntry = summary.RootElement.GetProperty("superclass:w=7");
        Assert.Equal(1.0, baseEntry.GetProperty("identity").GetDouble(), 9);
        Assert.Equal(1.0 / 3, superEntry.GetProperty("identity").GetDouble(), 9);
        Assert.True(superEntry.GetProperty("context").GetDouble() > baseEntry.GetProperty("context").GetDouble());
        Assert.Equal(2, baseEntry.GetProperty("rows_per_image").GetDouble());
        Assert.Equal(3, summary.RootElement.GetProperty("mixed:wc=6,ws=1").GetProperty("rows_per_image").GetDouble());
        Assert.Equal(5, summary.RootElement.EnumerateObject().Count());
        foreach (string file in new[] { "images.csv", "aggregates.csv", "pareto.json", "pareto.png", "pareto.svg", "report.html" })
            Assert.True(new FileInfo(Path.Combine(folder, file)).Length > 0, file);
        Assert.Equal(5, Directory.GetFiles(Path.Combine(folder, "grids"), "*.png").Length);
        Assert.Equal(91, File.ReadAllLines(Path.Combine(folder, "images.csv")).Length);
        string html = File.ReadAllText(Path.Combine(folder, "report.html"));
        Assert.Contains("pareto.svg", html);
        Assert.Contains("mixed:wc=3.5,ws=3.5", html);
        using var pareto = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "pareto.json")));
        Assert.Contains("base:w=7", pareto.RootElement.GetProperty("overall").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Study_files_load_and_bad_ones_fail_with_one_line()
    {
        string folder = TestPaths.NewTempDirectory();
        string path = Path.Combine(folder, "study.json");
        File.WriteAllText(path, """
            {"base_model": "m", "concepts": [{"name": "checker-square", "method": "svdiff", "checkpoint": "c", "token": "sks", "class": "square"}],
             "prompts": ["a photo of a {} on sand"], "seeds": [0, 1], "images_per_prompt": 2, "steps": 25,
             "strategies": ["base:w=7", "mixed:ws=0..7:0.5,wc=7-ws"]}
            """);
        var study = StudyDefinition.Load(path);
        Assert.Equal(16, study.ExpandedStrategies().Count);
        Assert.Equal(32, study.Jobs().Count);
        Assert.Equal("square", study.Concepts[0].ClassWord);

        File.WriteAllText(path, """{"concepts": [{"name": "x", "class": "square"}], "prompts": ["a photo on sand"], "strategies": ["base:w=7"]}""");
        Assert.Contains("placeholder", Assert.Throws<InvalidInputException>(() => StudyDefinition.Load(path)).Message);
        File.WriteAllText(path, "{ not json");
        Assert.Contains("not valid", Assert.Throws<InvalidInputException>(() => StudyDefinition.Load(path)).Message);
        Assert.Contains("not found", Assert.Throws<InvalidInputException>(() => StudyDefinition.Load(Path.Combine(folder, "none.json"))).Message);
    }

    private sealed class SynchronousProgress(Action<StudyProgress> onReport) : IProgress<StudyProgress>
    {
        public void Report(StudyProgress value) => onReport(value);
    }
}
