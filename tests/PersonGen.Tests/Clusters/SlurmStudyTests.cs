using System.Text.Json;
using PersonGen.Evaluation.Clusters;
using PersonGen.Evaluation.Studies;
using PersonGen.Tests.Support;
using Xunit.Abstractions;

namespace PersonGen.Tests.Clusters;

/// <summary>A small world study handed to a real single-node Slurm: 12 jobs in 3 array tasks, then the merge job.</summary>
public sealed class SlurmStudyTests(SlurmCluster cluster, ITestOutputHelper log) : IClassFixture<SlurmCluster>
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private static readonly Lazy<(string Study, string Summary)> Reference = new(RunReference);

    [SkippableFact]
    public void Three_shards_and_the_merge_give_the_summary_of_a_single_process_run()
    {
        RequireSlurm();
        string outDir = TestPaths.NewTempDirectory();
        log.WriteLine(CliRunner.RunOk("study", "submit", Reference.Value.Study, "--out", outDir, "--slurm", "--shards", "3"));
        var jobs = SlurmJobs.Load(outDir)!;
        Assert.Equal([0, 1, 2], jobs.Submissions.Single().Shards);
        WaitForMerge(jobs.Submissions[^1].MergeJobId, outDir);

        Assert.Equal(Reference.Value.Summary, File.ReadAllText(Path.Combine(outDir, "summary.json")));
        string status = CliRunner.RunOk("study", "status", outDir);
        Assert.Contains("3 of 3 shards complete", status);
        Assert.Contains("4/4", status);
    }

    [SkippableFact]
    public void A_cancelled_array_task_is_resubmitted_alone_and_every_job_runs_once()
    {
        RequireSlurm();
        string outDir = TestPaths.NewTempDirectory();
        CliRunner.RunOk("study", "submit", Reference.Value.Study, "--out", outDir, "--slurm", "--shards", "3");
        var first = SlurmJobs.Load(outDir)!.Submissions.Single();
        string array = first.ArrayJobId!;
        cluster.WaitUntil(() => SlurmClient.States(array).GetValueOrDefault(1) == "RUNNING", Limit, $"array task {array}_1 to run");
        SlurmClient.Cancel($"{array}_1");
        cluster.WaitUntil(() => !SlurmClient.States(array).Values.Any(SlurmClient.IsActive), Limit, $"array job {array} to end");
        Assert.Equal("CANCELLED", SlurmClient.States(array)[1]);
        Assert.True(SlurmClient.IsActive(SlurmClient.States(first.MergeJobId)[-1]), "the merge waits on its never-satisfied dependency");

        string resumed = CliRunner.RunOk("study", "submit", Reference.Value.Study, "--out", outDir, "--slurm", "--resume");
        log.WriteLine(resumed);
        Assert.Contains($"cancelled merge job {first.MergeJobId}", resumed);
        var second = SlurmJobs.Load(outDir)!.Submissions[^1];
        Assert.Equal([1], second.Shards);
        WaitForMerge(second.MergeJobId, outDir);

        Assert.Equal(Reference.Value.Summary, File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var study = StudyDefinition.Load(Reference.Value.Study);
        var shardKeys = Enumerable.Range(0, 3).SelectMany(i => Keys(Path.Combine(outDir, new ShardSpec(i, 3).ResultsFileName))).ToArray();
        Assert.Equal(study.Jobs().Select(j => j.Key).Order(), shardKeys.Order());
        using var merged = StudyResultStore.Open(Path.Combine(outDir, "results.sqlite"));
        Assert.Equal(study.Jobs().Count * study.ImagesPerPrompt, merged.ReadAll().Count);
    }

    private static IEnumerable<string> Keys(string path)
    {
        using var store = StudyResultStore.Open(path);
        return store.FinishedJobKeys().ToArray();
    }

    private void WaitForMerge(string mergeJob, string outDir)
    {
        cluster.WaitUntil(() => !SlurmClient.States(mergeJob).Values.Any(SlurmClient.IsActive), Limit, $"merge job {mergeJob}");
        string mergeLog = Path.Combine(SlurmScripts.Folder(outDir), "logs", "merge.out");
        Assert.True(File.Exists(Path.Combine(outDir, "summary.json")),
            $"the merge wrote no summary.json; its log: {(File.Exists(mergeLog) ? File.ReadAllText(mergeLog) : "(none)")}");
    }

    private void RequireSlurm()
    {
        if (cluster.MissingReason is not { } reason) return;
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail($"{reason} (.ci/run installs it)");
        log.WriteLine($"skipped: {reason}");
        Skip.If(true, reason);
    }

    /// <summary>The study file and the summary.json of one unsharded in-process run of it.</summary>
    private static (string Study, string Summary) RunReference()
    {
        string folder = TestPaths.NewTempDirectory();
        string study = Path.Combine(folder, "study.json");
        File.WriteAllText(study, JsonSerializer.Serialize(new
        {
            base_model = Path.Combine(TestPaths.RepoRoot, "models", "shapes-world"),
            concepts = new[] { new { name = "checker-square", @class = "square" } },
            prompts = new[] { "a photo of a {} on sand", "a photo of a {} on ocean" },
            seeds = new[] { 0, 1, 2 },
            images_per_prompt = 1,
            steps = 3,
            strategies = new[] { "base:w=7", "superclass:w=7" },
        }));
        string outDir = Path.Combine(folder, "single");
        CliRunner.RunOk("study", "run", study, "--out", outDir);
        return (study, File.ReadAllText(Path.Combine(outDir, "summary.json")));
    }
}
