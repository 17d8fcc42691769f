using System.Diagnostics;
using System.Text.Json;
using PersonGen.Evaluation.Studies;
using PersonGen.Tests.Support;
using PersonGen.World;

namespace PersonGen.Tests.Evaluation.Studies;

public class StudyCommandTests
{
    private const string FakeStudy = """
        {"base_model": "fake", "concepts": [{"name": "checker-square", "class": "square"}],
         "prompts": ["a photo of a {} on sand", "a photo of a {} on ocean"], "seeds": [0, 1], "images_per_prompt": 2,
         "strategies": ["base:w=7", "superclass:w=7"]}
        """;

    private static string WriteStudy(string folder, string json, string name = "study.json")
    {
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>Starts <c>persongen</c> as its own process (the built CLI beside the test assembly).</summary>
    private static Process StartCli(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "persongen.dll"));
        foreach (string arg in args) start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    private static (int Code, string Output, string Error) Finish(Process process)
    {
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    [Fact]
    public async Task A_second_process_on_a_results_folder_in_use_is_refused_with_one_line()
    {
        string folder = TestPaths.NewTempDirectory(), output = Path.Combine(folder, "out");
        string studyPath = WriteStudy(folder, FakeStudy);
        var study = StudyDefinition.Load(studyPath);
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var engine = new GatedEngine(new FakeShapesEngine(), inside, release);
        var first = Task.Run(() => new StudyRunner(study, engine, ShapesMetric.All, output).Run());
        inside.Wait();

        var (code, _, error) = Finish(StartCli("study", "run", studyPath, "--out", output));
        release.Set();
        var result = await first;
        Assert.Equal(1, code);
        Assert.StartsWith("error: results '", error);
        Assert.Contains("are in use by another study run", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(8, result.Ran);
        Assert.Equal(8, engine.Calls);

        var (again, text, _) = Finish(StartCli("study", "run", studyPath, "--out", output));
        Assert.Equal(0, again);
        Assert.Contains("0 job(s) run, 8 already finished", text);
    }

    [Fact]
    public void Two_processes_started_together_run_each_job_once()
    {
        string folder = TestPaths.NewTempDirectory(), output = Path.Combine(folder, "out");
        string studyPath = WriteStudy(folder, $$"""
            {"base_model": {{JsonSerializer.Serialize(TestPaths.Golden("tiny_sd2"))}}, "concepts": [{"name": "checker-square", "class": "square"}],
             "prompts": ["a photo of a {} on sand"], "seeds": [0, 1], "images_per_prompt": 1, "steps": 1, "strategies": ["base:w=7"]}
            """);
        var processes = new[] { StartCli("study", "run", studyPath, "--out", output), StartCli("study", "run", studyPath, "--out", output) };
        var results = processes.Select(Finish).ToArray();
        int ran = 0;
        foreach (var (code, text, error) in results)
        {
            if (code == 0) ran += int.Parse(text[..text.IndexOf(" job(s) run", StringComparison.Ordinal)].Split('\n')[^1].Trim());
            else Assert.Contains("are in use by another study run", error);
        }
        Assert.Contains(results, r => r.Code == 0);
        Assert.Equal(2, ran);
        Assert.Equal(2, StudyRunnerTests.Rows(Path.Combine(output, "results.sqlite")).Count);
    }

    [Fact]
    public void Merge_names_missing_shards_and_reports_them_only_as_partial()
    {
        string folder = TestPaths.NewTempDirectory(), output = Path.Combine(folder, "out");
        string studyPath = WriteStudy(folder, FakeStudy);
        new StudyRunner(StudyDefinition.Load(studyPath), new FakeShapesEngine(), ShapesMetric.All, output).Run(ShardSpec.Parse("1/3"));

        var (code, _, error) = CliRunner.Run("study", "merge", studyPath, "--out", output);
        Assert.Equal(1, code);
        Assert.Contains("0/3 (no results.shard-0-of-3.sqlite), 2/3 (no results.shard-2-of-3.sqlite)", error);
        Assert.Contains("--partial", error);
        Assert.False(File.Exists(Path.Combine(output, "report.html")));

        string text = CliRunner.RunOk("study", "merge", studyPath, "--out", output, "--partial");
        Assert.Contains("merged 1 shard(s); missing: 0/3", text);
        Assert.Contains("Partial study</strong>: 3 of 8 jobs finished", File.ReadAllText(Path.Combine(output, "report.html")));
        Assert.Contains("--partial", CliRunner.Run("study", "report", studyPath, "--out", output).Error);
        CliRunner.RunOk("study", "report", studyPath, "--out", output, "--partial");
    }

    [Fact]
    public void Reporting_results_with_another_study_file_is_refused_naming_both()
    {
        string folder = TestPaths.NewTempDirectory(), output = Path.Combine(folder, "out");
        string studyPath = WriteStudy(folder, FakeStudy);
        string other = WriteStudy(folder, FakeStudy.Replace("superclass:w=7", "superclass:w=5"), "other.json");
        new StudyRunner(StudyDefinition.Load(studyPath), new FakeShapesEngine(), ShapesMetric.All, output).Run();
        CliRunner.RunOk("study", "report", studyPath, "--out", output);

        var (code, _, error) = CliRunner.Run("study", "report", other, "--out", output);
        Assert.Equal(1, code);
        Assert.Contains($"(from '{studyPath}'), not for study {StudyFingerprint.Of(StudyDefinition.Load(other))} (from '{other}')", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Usage_errors_under_study_run_point_to_its_own_help()
    {
        var (code, _, error) = CliRunner.Run("study", "run", "s.json");
        Assert.Equal(2, code);
        Assert.EndsWith("(see 'persongen study run --help')", error.Trim());
    }

    /// <summary>Signals when the first job starts and holds it until released.</summary>
    private sealed class GatedEngine(IStudyEngine inner, ManualResetEventSlim inside, ManualResetEventSlim release) : IStudyEngine
    {
        public int Calls { get; private set; }

        public StudyImages Generate(StudyJob job, CancellationToken cancellationToken)
        {
            if (Calls++ == 0)
            {
                inside.Set();
                release.Wait(cancellationToken);
            }
            return inner.Generate(job, cancellationToken);
        }
    }
}
