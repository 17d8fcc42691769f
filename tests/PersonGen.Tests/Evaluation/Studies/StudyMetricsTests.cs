using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using PersonGen.Evaluation.Studies;
using PersonGen.Tests.Support;
using PersonGen.World;

namespace PersonGen.Tests.Evaluation.Studies;

public class StudyMetricsTests
{
    private const string Study = """
        {"base_model": "fake", "concepts": [{"name": "checker-square", "class": "square"}],
         "prompts": ["a photo of a {} on sand", "a photo of a {} on ocean"], "seeds": [0], "images_per_prompt": 2,
         "strategies": ["base:w=7", "superclass:w=7", "mixed:wc=3.5,ws=3.5"]
        """;

    private static string WriteStudy(string folder, string extra, string name = "study.json")
    {
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, Study + extra + "}");
        return path;
    }

    [Fact]
    public void A_metric_registered_in_one_line_appears_in_summary_csvs_report_and_cli_table()
    {
        ShapesMetric.Register();
        MetricRegistry.Register(new BrightnessMetric());
        string folder = TestPaths.NewTempDirectory(), output = Path.Combine(folder, "out");
        string path = WriteStudy(folder, """, "metrics": ["identity", "context", "brightness"], "axes": {"x": "brightness", "y": "identity"}""");
        var study = StudyDefinition.Load(path);
        new StudyRunner(study, new FakeShapesEngine(), StudyMetrics.Of(study).All, output).Run();

        string table = CliRunner.RunOk("study", "report", path, "--out", output);
        Assert.Contains("brightness", table);
        var rows = StudyRunnerTests.Rows(Path.Combine(output, "results.sqlite"));
        Assert.All(rows, r => Assert.Equal(["brightness", "context", "identity"], r.Values.Keys.Order()));

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        foreach (var spec in summary.RootElement.EnumerateObject())
        {
            Assert.Equal(["identity", "context", "brightness", "rows_per_image"], spec.Value.EnumerateObject().Select(p => p.Name));
            var mine = rows.Where(r => r.Strategy == spec.Name).ToArray();
            // One concept: the study mean is the mean over prompts of the per-prompt means.
            double expected = mine.GroupBy(r => r.Prompt).Average(g => g.Average(r => r.Values["brightness"]));
            Assert.Equal(expected, spec.Value.GetProperty("brightness").GetDouble(), 12);
        }
        Assert.Equal("job_key,image_index,strategy,family,concept,prompt,seed,identity,context,brightness,rows_per_image,image_path",
            File.ReadLines(Path.Combine(output, "images.csv")).First());
        Assert.Equal("strategy,family,identity,context,brightness,rows_per_image,cost_vs_base,images,pareto",
            File.ReadLines(Path.Combine(output, "aggregates.csv")).First());
        Assert.Contains("<th>brightness</th>", File.ReadAllText(Path.Combine(output, "report.html")));
    }

    [Fact]
    public void The_front_minimises_a_lower_is_better_axis()
    {
        var metrics = StudyMetrics.Of(new StudyDefinition { Metrics = ["identity", "brightness"], Axes = new() { X = "brightness", Y = "identity" } },
            [new FuncMetric("identity", (_, _) => 0), new BrightnessMetric()]);
        IReadOnlyList<ImageMetricRow> rows =
        [
            Row("dark", identity: 0.5, brightness: 0.2), Row("bright", identity: 0.5, brightness: 0.8), Row("brighter-but-true", identity: 0.9, brightness: 0.9),
        ];
        var aggregates = StudyAggregation.PerStrategy(rows, metrics);
        Assert.Equal(["brighter-but-true", "dark"], aggregates.Where(a => a.OnFront).Select(a => a.Strategy));
    }

    private static ImageMetricRow Row(string strategy, double identity, double brightness) =>
        new($"{strategy}|c|p|0", 0, strategy, strategy, "c", "p", 0,
            new Dictionary<string, double> { ["identity"] = identity, ["brightness"] = brightness }, 2, "x.png");

    [Fact]
    public void Studies_without_metrics_keys_use_the_worlds_and_bad_metrics_or_axes_fail_with_one_line()
    {
        ShapesMetric.Register();
        string folder = TestPaths.NewTempDirectory();
        var plain = StudyDefinition.Load(WriteStudy(folder, ""));
        Assert.Equal(["identity", "context"], plain.Metrics);
        Assert.Equal(("context", "identity"), (plain.Axes.X, plain.Axes.Y));
        Assert.Equal(["identity", "context"], StudyMetrics.Of(plain).Names);

        foreach (var (extra, message) in new[]
        {
            (""", "axes": {"x": "context", "y": "brightnes"}""", "study axes \"y\" is 'brightnes', which is not one of \"metrics\" [identity, context]: name one of them"),
            (""", "axes": {"x": "context", "y": "context"}""", "study axes \"x\" and \"y\" are both 'context'"),
            (""", "axes": {"x": "context", "z": "identity"}""", "unknown axes key \"z\": did you mean \"x\"?"),
            (""", "metrics": ["identity", "identity"]""", "study metric 'identity' is listed twice"),
            (""", "metrics": []""", "study has no metrics"),
        })
        {
            var error = Assert.Throws<InvalidInputException>(() => StudyDefinition.Load(WriteStudy(folder, extra)));
            Assert.Contains(message, error.Message);
            Assert.DoesNotContain('\n', error.Message);
        }
        var unknown = StudyDefinition.Load(WriteStudy(folder, """, "metrics": ["identiy", "context"], "axes": {"x": "context", "y": "identiy"}"""));
        var missing = Assert.Throws<InvalidInputException>(() => StudyMetrics.Of(unknown));
        Assert.Contains("metric 'identiy' in \"metrics\" is not registered: did you mean 'identity'?", missing.Message);
    }

    [Fact]
    public void The_fingerprint_covers_the_metric_list_and_reference_images_resolve_beside_the_study()
    {
        string folder = TestPaths.NewTempDirectory();
        var plain = StudyDefinition.Load(WriteStudy(folder, ""));
        var reordered = StudyDefinition.Load(WriteStudy(folder, """, "metrics": ["context", "identity"]"""));
        var swapped = StudyDefinition.Load(WriteStudy(folder, """, "axes": {"x": "identity", "y": "context"}"""));
        Assert.NotEqual(StudyFingerprint.Of(plain), StudyFingerprint.Of(reordered));
        Assert.Equal(StudyFingerprint.Of(plain), StudyFingerprint.Of(swapped)); // the axes only change the plot

        Directory.CreateDirectory(Path.Combine(folder, "photos"));
        File.WriteAllText(Path.Combine(folder, "photos", "a.png"), "one");
        string withPhotos = Path.Combine(folder, "photos.json");
        File.WriteAllText(withPhotos, Study.Replace("\"class\": \"square\"", "\"class\": \"square\", \"reference_images\": \"photos\"") + "}");
        var study = StudyDefinition.Load(withPhotos);
        Assert.Equal(Path.Combine(folder, "photos"), study.Concepts[0].ReferenceImages);
        string before = StudyFingerprint.Of(study);
        File.WriteAllText(Path.Combine(folder, "photos", "a.png"), "two");
        Assert.NotEqual(before, StudyFingerprint.Of(study));
    }

    [Fact]
    public void A_results_database_of_the_old_schema_is_refused_with_one_line_naming_the_version_and_the_fix()
    {
        string folder = TestPaths.NewTempDirectory(), path = Path.Combine(folder, "results.sqlite");
        // The layout PersonGen wrote before metrics were data: fixed identity and context columns, no schema version.
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE images (
                  job_key TEXT NOT NULL, image_index INTEGER NOT NULL, strategy TEXT NOT NULL, family TEXT NOT NULL,
                  concept TEXT NOT NULL, prompt TEXT NOT NULL, seed INTEGER NOT NULL, identity REAL NOT NULL,
                  context REAL NOT NULL, rows_per_image REAL NOT NULL, image_path TEXT NOT NULL,
                  PRIMARY KEY (job_key, image_index));
                CREATE TABLE study (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                INSERT INTO images VALUES ('base:w=7|checker-square|a photo of a {} on sand|0', 0, 'base:w=7', 'base', 'checker-square',
                  'a photo of a {} on sand', 0, 0.5, 0.25, 2, 'images/x.png');
                INSERT INTO study VALUES ('fingerprint', '0123456789abcdef'), ('source', 'study.json');
                """;
            command.ExecuteNonQuery();
        }
        var error = Assert.Throws<PersonGenException>(() => StudyResultStore.Open(path));
        Assert.Equal($"results file '{path}' has results schema version 1, this PersonGen reads version {StudyResultStore.SchemaVersion.ToString(CultureInfo.InvariantCulture)}: " +
            "rerun the study into another output folder (or delete the file)", error.Message);

        string studyPath = WriteStudy(folder, "");
        var (code, _, cliError) = CliRunner.Run("study", "report", studyPath, "--out", folder);
        Assert.Equal(1, code);
        Assert.Contains("has results schema version 1", cliError);
        Assert.Single(cliError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
