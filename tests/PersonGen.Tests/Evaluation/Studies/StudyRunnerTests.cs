using System.Text.Json;
using PersonGen.Evaluation.Studies;
using PersonGen.Tests.Support;
using PersonGen.World;
using SkiaSharp;

namespace PersonGen.Tests.Evaluation.Studies;

public class StudyRunnerTests
{
    internal static StudyDefinition Study() => new()
    {
        BaseModel = "fake",
        Concepts = [new StudyConcept { Name = "checker-square", ClassWord = "square" }],
        Prompts = ["a photo of a {} on sand", "a photo of a {} on ocean", "a photo of a {}"],
        Seeds = [0, 1],
        ImagesPerPrompt = 3,
        Strategies = ["base:w=7", "superclass:w=7", "mixed:ws=1..6:2.5,wc=7-ws"],
    };

    internal static IReadOnlyList<ImageMetricRow> Rows(string path)
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
    public void Repeated_seeds_and_prompts_run_once_with_a_notice()
    {
        var study = Study() with { Seeds = [0, 0], Prompts = ["a photo of a {} on sand", "a photo of a {} on sand"], Strategies = ["base:w=7"] };
        Assert.Single(study.Jobs());
        Assert.Equal(["seed 0 is listed 2 times: it runs once", "prompt 'a photo of a {} on sand' is listed 2 times: it runs once"], study.Notices());
        var result = new StudyRunner(study, new FakeShapesEngine(), ShapesMetric.All, TestPaths.NewTempDirectory()).Run();
        Assert.Equal(1, result.Ran);
        Assert.Equal(3, Rows(result.ResultsPath).Count);
    }

    [Fact]
    public void A_run_killed_mid_way_resumes_without_duplicate_or_lost_rows()
    {
        string reference = TestPaths.NewTempDirectory(), killed = TestPaths.NewTempDirectory();
        var study = Study();
        new StudyRunner(study, new FakeShapesEngine(), ShapesMetric.All, reference).Run();
        var expected = Rows(Path.Combine(reference, "results.sqlite"));
        Assert.Equal(30 * 3, expected.Count);

        // A crash inside job 5 (after 4 committed jobs), then a cancellation after 7 more jobs.
        Assert.Throws<InvalidOperationException>(() => new StudyRunner(study, new FakeShapesEngine(failAtCall: 5), ShapesMetric.All, killed).Run());
        Assert.Equal(4 * 3, Rows(Path.Combine(killed, "results.sqlite")).Count);
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress(p => { if (p.Done == 11) cancel.Cancel(); });
        Assert.Throws<OperationCanceledException>(() =>
            new StudyRunner(study, new FakeShapesEngine(), ShapesMetric.All, killed).Run(progress: progress, cancellationToken: cancel.Token));
        Assert.Equal(11 * 3, Rows(Path.Combine(killed, "results.sqlite")).Count);

        var engine = new FakeShapesEngine();
        var result = new StudyRunner(study, engine, ShapesMetric.All, killed).Run();
        Assert.Equal(19, result.Ran);
        Assert.Equal(11, result.Skipped);
        Assert.Equal(19, engine.Calls);
        Assert.Equal(expected, Rows(Path.Combine(killed, "results.sqlite")));
        Assert.Equal(0, new StudyRunner(study, engine, ShapesMetric.All, killed).Run().Ran);
    }

    [Fact]
    public void Each_row_points_to_the_engines_image_and_carries_its_score_and_cost()
    {
        string folder = TestPaths.NewTempDirectory();
        var study = Study();
        var scorer = new RecordingScorer();
        new StudyRunner(study, new FakeShapesEngine(), scorer.Metrics, folder).Run();
        var rows = Rows(Path.Combine(folder, "results.sqlite"));
        Assert.Equal(rows.Count, rows.Select(r => r.ImagePath).Distinct().Count());
        foreach (var job in study.Jobs())
        {
            using var images = new FakeShapesEngine().Generate(job, CancellationToken.None);
            var mine = rows.Where(r => r.JobKey == job.Key).OrderBy(r => r.ImageIndex).ToArray();
            Assert.Equal(job.ImagesPerPrompt, mine.Length);
            for (int i = 0; i < mine.Length; i++)
            {
                using var written = SKBitmap.Decode(Path.Combine(folder, mine[i].ImagePath));
                Assert.Equal(images.Images[i].Pixels, written.Pixels);
                Assert.Equal(scorer.Scores[(job.Key, PixelHash(images.Images[i]))], (mine[i].Values["identity"], mine[i].Values["context"]));
                Assert.Equal(images.RowsPerImage, mine[i].RowsPerImage);
            }
        }
    }

    [Fact]
    public void Prompts_that_slug_alike_get_their_own_images()
    {
        var study = Study() with { Prompts = ["a photo of a {} on sand!", "a photo of a {} on sand?", "a photo of a {} " + new string('x', 300)], Strategies = ["base:w=7"], Seeds = [0] };
        var jobs = study.Jobs();
        Assert.Equal(StudyRunner.Slug(jobs[0].PromptTemplate), StudyRunner.Slug(jobs[1].PromptTemplate));
        string folder = TestPaths.NewTempDirectory();
        new StudyRunner(study, new FakeShapesEngine(), ShapesMetric.All, folder).Run();
        var rows = Rows(Path.Combine(folder, "results.sqlite"));
        Assert.Equal(9, rows.Select(r => r.ImagePath).Distinct().Count());
        Assert.Equal(9, Directory.GetFiles(Path.Combine(folder, "images"), "*.png", SearchOption.AllDirectories).Length);
        Assert.All(rows, r => Assert.All(r.ImagePath.Split(Path.DirectorySeparatorChar), part => Assert.InRange(part.Length, 1, 64)));
    }

    [Fact]
    public void Shards_merged_equal_an_unsharded_run_and_missing_shards_are_named()
    {
        string whole = TestPaths.NewTempDirectory(), sharded = TestPaths.NewTempDirectory();
        var study = Study();
        new StudyRunner(study, new FakeShapesEngine(), ShapesMetric.All, whole).Run();
        var first = new StudyRunner(study, new FakeShapesEngine(), ShapesMetric.All, sharded).Run(ShardSpec.Parse("0/3"));
        Assert.Equal(10, first.ShardJobs);

        var partial = StudyMerge.Plan(study, sharded);
        Assert.Equal(["1/3 (no results.shard-1-of-3.sqlite)", "2/3 (no results.shard-2-of-3.sqlite)"], partial.Missing);
        Assert.Throws<OperationCanceledException>(() => new StudyRunner(study, new FakeShapesEngine(), ShapesMetric.All, sharded)
            .Run(ShardSpec.Parse("1/3"), new SynchronousProgress(p => throw new OperationCanceledException())));
        Assert.Equal("1/3 (1 of 10 jobs finished)", StudyMerge.Plan(study, sharded).Missing[0]);

        // Shards 1 and 2 run on other machines, each into its own folder.
        string[] elsewhere = [TestPaths.NewTempDirectory(), TestPaths.NewTempDirectory()];
        File.Delete(Path.Combine(sharded, "results.shard-1-of-3.sqlite"));
        for (int i = 1; i < 3; i++)
            new StudyRunner(study, new FakeShapesEngine(), ShapesMetric.All, elsewhere[i - 1]).Run(ShardSpec.Parse($"{i}/3"));
        Assert.Empty(Rows(first.ResultsPath).Select(r => r.JobKey).Intersect(Rows(Path.Combine(elsewhere[0], "results.shard-1-of-3.sqlite")).Select(r => r.JobKey)));
        var merge = StudyMerge.Plan(study, sharded, elsewhere);
        Assert.Empty(merge.Missing);
        string merged = merge.Execute();
        StudyMerge.Plan(study, sharded, elsewhere).Execute();
        Assert.Equal(Rows(Path.Combine(whole, "results.sqlite")), Rows(merged));
        Assert.All(Rows(merged), r => Assert.True(File.Exists(Path.Combine(sharded, r.ImagePath)), r.ImagePath));
    }

    [Fact]
    public void A_changed_study_is_refused_naming_both_and_an_equal_one_resumes()
    {
        string folder = TestPaths.NewTempDirectory();
        string checkpoint = Path.Combine(folder, "concept.safetensors"), model = Path.Combine(folder, "model");
        File.WriteAllBytes(checkpoint, [1, 2, 3]);
        Directory.CreateDirectory(Path.Combine(model, "scheduler"));
        File.WriteAllText(Path.Combine(model, "scheduler", "scheduler_config.json"), """{"steps_offset": 1}""");
        var study = Study() with { BaseModel = model, Concepts = [Study().Concepts[0] with { Checkpoint = checkpoint }], SourcePath = "a.json" };
        string output = Path.Combine(folder, "out"), original = StudyFingerprint.Of(study);
        new StudyRunner(study, new FakeShapesEngine(), ShapesMetric.All, output).Run(ShardSpec.Parse("0/2"));

        void Refused(StudyDefinition changed)
        {
            var error = Assert.Throws<PersonGenException>(() => new StudyRunner(changed, new FakeShapesEngine(), ShapesMetric.All, output).Run(ShardSpec.Parse("0/2")));
            Assert.Contains($"made for study {original} (from 'a.json')", error.Message);
            Assert.Contains($"not for study {StudyFingerprint.Of(changed)} (from 'b.json')", error.Message);
            Assert.DoesNotContain('\n', error.Message);
            Assert.Throws<PersonGenException>(() => StudyMerge.Plan(changed, output));
        }
        var b = study with { SourcePath = "b.json" };
        Refused(b with { Steps = 26 });
        Refused(b with { ImagesPerPrompt = 2 });
        Refused(b with { Strategies = ["base:w=7"] });
        Refused(b with { Concepts = [b.Concepts[0] with { Token = "xyz" }] });
        Refused(b with { BaseModel = "other-model" });
        File.WriteAllText(Path.Combine(model, "scheduler", "scheduler_config.json"), """{"steps_offset": 0}""");
        Refused(b);
        File.WriteAllText(Path.Combine(model, "scheduler", "scheduler_config.json"), """{"steps_offset": 1}""");
        File.WriteAllBytes(checkpoint, [1, 2, 4]);
        Refused(b);
        File.WriteAllBytes(checkpoint, [1, 2, 3]);

        // The same study (seeds repeated, files elsewhere with equal bytes) is the same study: the run resumes.
        string moved = Path.Combine(folder, "moved.safetensors");
        File.Copy(checkpoint, moved);
        var same = b with { Seeds = [0, 1, 1], Concepts = [b.Concepts[0] with { Checkpoint = moved }] };
        Assert.Equal(0, new StudyRunner(same, new FakeShapesEngine(), ShapesMetric.All, output).Run(ShardSpec.Parse("0/2")).Ran);
        File.Delete(moved);
        Assert.Contains("not found", Assert.Throws<InvalidInputException>(() => StudyFingerprint.Of(same)).Message);
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
    public void The_report_writes_the_aggregates_of_the_scores_with_float_ties_as_ties()
    {
        string folder = TestPaths.NewTempDirectory();
        var study = Study();
        // Superclass ties Base on context up to rounding (0.1 + 0.2 vs 0.3) and beats it on identity: Base is dominated.
        var scorer = new TableScorer(new()
        {
            ["base:w=7"] = new(0.5, 0.1 + 0.2),
            ["superclass:w=7"] = new(0.6, 0.3),
            ["mixed:wc=6,ws=1"] = new(0.2, 0.9),
            ["mixed:wc=3.5,ws=3.5"] = new(0.1, 0.5),
            ["mixed:wc=1,ws=6"] = new(0.4, 0.2),
        });
        new StudyRunner(study, new FakeShapesEngine(), scorer.Metrics, folder).Run();
        var aggregates = StudyReport.Write(folder, Rows(Path.Combine(folder, "results.sqlite")), StudyMetrics.Of(study, scorer.Metrics), study.ExpandedStrategies());

        Assert.Equal(study.ExpandedStrategies(), aggregates.Select(a => a.Strategy));
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json")));
        Assert.Equal(5, summary.RootElement.EnumerateObject().Count());
        foreach (var (spec, score) in scorer.Table)
        {
            var entry = summary.RootElement.GetProperty(spec);
            Assert.Equal(score.Identity, entry.GetProperty("identity").GetDouble(), 12);
            Assert.Equal(score.Context, entry.GetProperty("context").GetDouble(), 12);
            Assert.Equal(spec.StartsWith("mixed") ? 3 : 2, entry.GetProperty("rows_per_image").GetDouble());
        }
        foreach (string file in new[] { "images.csv", "aggregates.csv", "pareto.json", "pareto.png", "pareto.svg", "report.html" })
            Assert.True(new FileInfo(Path.Combine(folder, file)).Length > 0, file);
        Assert.Equal(5, Directory.GetFiles(Path.Combine(folder, "grids"), "*.png").Length);
        Assert.Equal(91, File.ReadAllLines(Path.Combine(folder, "images.csv")).Length);
        string html = File.ReadAllText(Path.Combine(folder, "report.html"));
        Assert.Contains("pareto.svg", html);
        Assert.Contains("mixed:wc=3.5,ws=3.5", html);
        Assert.DoesNotContain("Partial study", html);
        using var pareto = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "pareto.json")));
        Assert.Equal(["superclass:w=7", "mixed:wc=6,ws=1"], pareto.RootElement.GetProperty("overall").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["mixed:wc=1,ws=6", "mixed:wc=6,ws=1"], pareto.RootElement.GetProperty("per_family").GetProperty("mixed").EnumerateArray().Select(e => e.GetString()));

        StudyReport.Write(folder, Rows(Path.Combine(folder, "results.sqlite")), StudyMetrics.Of(study, scorer.Metrics), study.ExpandedStrategies(), "12 of 30 jobs finished");
        Assert.Contains("Partial study</strong>: 12 of 30 jobs finished", File.ReadAllText(Path.Combine(folder, "report.html")));
    }

    [Fact]
    public void A_family_curve_follows_its_swept_parameter_and_is_labelled_with_it()
    {
        StrategyAggregate Aggregate(string spec, string family, double context) =>
            new(spec, family, new Dictionary<string, double> { ["identity"] = 0.5, ["context"] = context }, 3, 4, OnFront: false);
        StrategyAggregate Point(string spec, double context) => Aggregate(spec, "mixed", context);
        var curve = StudyReport.Curve([Point("mixed:wc=3.5,ws=3.5", 0.2), Point("mixed:wc=6,ws=1", 0.5), Point("mixed:wc=1,ws=6", 0.8), Point("mixed:wc=7,ws=0", 0.3)]);
        Assert.Equal(["wc=1,ws=6", "wc=3.5,ws=3.5", "wc=6,ws=1", "wc=7,ws=0"], curve.Select(p => p.Label));
        var switching = StudyReport.Curve([Aggregate("switching:tsw=10,w=7", "switching", 0.1), Aggregate("switching:tsw=2,w=7", "switching", 0.9)]);
        Assert.Equal(["tsw=2", "tsw=10"], switching.Select(p => p.Label));
        Assert.Equal("", Assert.Single(StudyReport.Curve([Point("mixed:wc=6,ws=1", 0.5)])).Label);
    }

    [Fact]
    public void Study_files_load_with_paths_relative_to_the_file_and_bad_ones_fail_with_one_line()
    {
        string folder = TestPaths.NewTempDirectory();
        Directory.CreateDirectory(Path.Combine(folder, "model"));
        string path = Path.Combine(folder, "study.json");
        File.WriteAllText(path, """
            {"base_model": "model", "concepts": [{"name": "checker-square", "method": "svdiff", "checkpoint": "c.safetensors", "token": "sks", "class": "square"}],
             "prompts": ["a photo of a {} on sand"], "seeds": [0, 1], "images_per_prompt": 2, "steps": 25,
             "strategies": ["base:w=7", "mixed:ws=0..7:0.5,wc=7-ws"]}
            """);
        var study = StudyDefinition.Load(path);
        Assert.Equal(16, study.ExpandedStrategies().Count);
        Assert.Equal(32, study.Jobs().Count);
        Assert.Equal("square", study.Concepts[0].ClassWord);
        Assert.Equal(Path.Combine(folder, "model"), study.BaseModel);
        Assert.Equal(Path.Combine(folder, "c.safetensors"), study.Concepts[0].Checkpoint);
        Assert.Equal(path, study.SourcePath);

        void Fails(string json, string expected)
        {
            File.WriteAllText(path, json);
            var error = Assert.Throws<InvalidInputException>(() => StudyDefinition.Load(path));
            Assert.Contains(expected, error.Message);
            Assert.DoesNotContain('\n', error.Message);
        }
        const string Good = "\"concepts\": [{\"name\": \"x\", \"class\": \"square\"}], \"prompts\": [\"a photo of a {}\"], \"strategies\": [\"base:w=7\"]";
        Fails("{" + Good + ", \"seed\": [1]}", "unknown key \"seed\": did you mean \"seeds\"?");
        Fails("{" + Good + ", \"images_per_promt\": 2}", "unknown key \"images_per_promt\": did you mean \"images_per_prompt\"?");
        Fails("""{"concepts": [{"name": "x", "class": "square", "chekpoint": "c"}], "prompts": ["a photo of a {}"], "strategies": ["base:w=7"]}""",
            "unknown concept key \"chekpoint\": did you mean \"checkpoint\"?");
        Fails("""{"concepts": [{"name": "x", "class": "square"}], "prompts": ["a photo on sand"], "strategies": ["base:w=7"]}""", "placeholder");
        Fails("{ not json", "not valid");
        Assert.Contains("not found", Assert.Throws<InvalidInputException>(() => StudyDefinition.Load(Path.Combine(folder, "none.json"))).Message);
    }

    [Fact]
    public void A_concept_that_disagrees_with_its_checkpoint_is_refused()
    {
        string folder = TestPaths.NewTempDirectory();
        string checkpoint = Path.Combine(folder, "c.safetensors");
        using (var delta = TorchSharp.torch.zeros(2))
            PersonGen.IO.SafetensorsFile.Save(checkpoint, [new("x", delta)], new Dictionary<string, string> { ["method"] = "lora", ["token"] = "sks", ["class"] = "square" });
        var concept = new StudyConcept { Name = "dog", Checkpoint = checkpoint, ClassWord = "square", Method = "lora" };
        concept.VerifyCheckpoint();
        var error = Assert.Throws<InvalidInputException>(() => (concept with { Method = "svdiff" }).VerifyCheckpoint());
        Assert.Contains("\"method\" is 'svdiff' but checkpoint", error.Message);
        Assert.Contains("set \"method\": \"lora\"", error.Message);
        Assert.Contains("token 'sks'", Assert.Throws<InvalidInputException>(() => (concept with { Token = "zwx" }).VerifyCheckpoint()).Message);
        Assert.Contains("class 'square'", Assert.Throws<InvalidInputException>(() => (concept with { ClassWord = "dog" }).VerifyCheckpoint()).Message);
    }

    [Fact]
    public void An_unwritable_output_folder_is_named_as_such()
    {
        var error = Assert.Throws<PersonGenException>(() => new StudyRunner(Study(), new FakeShapesEngine(), ShapesMetric.All, "/proc/self").Run());
        Assert.Contains("results folder '/proc/self' is not writable", error.Message);
    }

    internal static string PixelHash(SKBitmap image) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(image.Bytes));

    private sealed class SynchronousProgress(Action<StudyProgress> onReport) : IProgress<StudyProgress>
    {
        public void Report(StudyProgress value) => onReport(value);
    }

    /// <summary>Scores each image by its pixels (identity) and by call count (context) and remembers what it returned.</summary>
    private sealed class RecordingScorer
    {
        public RecordingScorer() =>
            Metrics =
            [
                new FuncMetric("identity", (image, job) => Record(image, job, PixelHash(image)[0] / 256.0, null)),
                new FuncMetric("context", (image, job) => Record(image, job, null, (_contexts++ % 7) / 7.0)),
            ];

        private int _contexts;

        public Dictionary<(string Job, string Pixels), (double Identity, double Context)> Scores { get; } = [];

        public IReadOnlyList<IImageMetric> Metrics { get; }

        private double Record(SKBitmap image, StudyJob job, double? identity, double? context)
        {
            var key = (job.Key, PixelHash(image));
            var known = Scores.GetValueOrDefault(key);
            Scores[key] = (identity ?? known.Identity, context ?? known.Context);
            return identity ?? context!.Value;
        }
    }

    /// <summary>Gives every image of a strategy the same score.</summary>
    private sealed class TableScorer(Dictionary<string, (double Identity, double Context)> table)
    {
        public Dictionary<string, (double Identity, double Context)> Table { get; } = table;

        public IReadOnlyList<IImageMetric> Metrics =>
            [new FuncMetric("identity", (_, job) => Table[job.Strategy].Identity), new FuncMetric("context", (_, job) => Table[job.Strategy].Context)];
    }
}
