using System.Text.Json;
using System.Text.RegularExpressions;
using PersonGen.Evaluation.Studies;
using PersonGen.IO;
using PersonGen.Tests.Support;
using PersonGen.World;

namespace PersonGen.Tests.Reliability;

/// <summary>
/// A study or a training run SIGKILLed at a seeded random moment (after the N-th output file, plus a random delay)
/// and rerun to completion ends with the files of an uninterrupted run, every job stored once.
/// </summary>
public sealed partial class KilledRunTests
{
    private static readonly string WorldModel = Path.Combine(TestPaths.RepoRoot, "models", "shapes-world");

    private static readonly Lazy<string> ConceptImages = new(() =>
    {
        string folder = TestPaths.NewTempDirectory();
        var concept = ShapesWorld.Concept("checker-triangle");
        var renderer = new ShapesRenderer(16);
        int index = 0;
        foreach (var scene in concept.TrainingScenes(16, seed: 0))
        {
            using var image = renderer.Render(scene);
            ImageIO.SavePng(image, Path.Combine(folder, $"{index++:00}.png"));
        }
        return folder;
    });

    private static string[] TrainArgs(string outDir) =>
        ["train", "--method", "svdiff", "--model", WorldModel, "--images", ConceptImages.Value, "--token", "sks", "--class", "triangle",
         "--steps", "30", "--save-every", "5", "--seed", "3", "--lr", "1e-2", "--out", outDir];

    private static readonly Lazy<string> StudyFile = new(() =>
    {
        string concept = TestPaths.NewTempDirectory();
        CliRunner.RunOk(TrainArgs(concept));
        string path = Path.Combine(TestPaths.NewTempDirectory(), "study.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            base_model = WorldModel,
            concepts = new[] { new { name = "checker-triangle", method = "svdiff", checkpoint = Path.Combine(concept, "concept.safetensors"), token = "sks", @class = "triangle" } },
            prompts = new[] { "a photo of a {} on sand", "a photo of a {} on ocean", "a photo of a {} on brick" },
            seeds = new[] { 0, 1 },
            images_per_prompt = 2,
            steps = 4,
            strategies = new[] { "base:w=7", "mixed:ws=2,wc=5" },
        }));
        return path;
    });

    private const int StudyJobs = 2 * 3 * 2;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_study_killed_at_a_random_moment_and_rerun_matches_an_uninterrupted_run(int seed)
    {
        var random = new Random(seed);
        string straight = TestPaths.NewTempDirectory();
        CliRunner.RunOk("study", "run", StudyFile.Value, "--out", straight);

        string killed = TestPaths.NewTempDirectory();
        int imagesBeforeKill = random.Next(1, StudyJobs);
        Assert.True(CliProcess.KillAfterOutputs(["study", "run", StudyFile.Value, "--out", killed], killed, "*.png", imagesBeforeKill, random.Next(0, 40)),
            $"the study finished before the kill after {imagesBeforeKill} images");
        int finishedBeforeRerun;
        using (var store = StudyResultStore.Open(Path.Combine(killed, ShardSpec.All.ResultsFileName)))
            finishedBeforeRerun = store.FinishedJobKeys().Count;

        string rerun = CliRunner.RunOk("study", "run", StudyFile.Value, "--out", killed);
        var counts = JobCounts().Match(rerun.ReplaceLineEndings(" "));
        Assert.True(counts.Success, rerun);
        Assert.Equal(StudyJobs - finishedBeforeRerun, int.Parse(counts.Groups[1].Value)); // no finished job runs again
        Assert.Equal(finishedBeforeRerun, int.Parse(counts.Groups[2].Value));

        Assert.Equal(Rows(straight), Rows(killed));
        Assert.Equal(StudyJobs * 2, Rows(killed).Count);
        // The database is compared by its rows (SQLite pages depend on write order); every other file byte for byte.
        AssertSameFiles(straight, killed, except: name => name.StartsWith("results.sqlite", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Training_killed_at_a_random_moment_and_resumed_matches_an_uninterrupted_run(int seed)
    {
        var random = new Random(seed);
        string straight = TestPaths.NewTempDirectory();
        CliRunner.RunOk(TrainArgs(straight));

        string killed = TestPaths.NewTempDirectory();
        int checkpointsBeforeKill = random.Next(1, 5); // of 5 (steps 5…25), so steps remain after the kill
        Assert.True(CliProcess.KillAfterOutputs(TrainArgs(killed), killed, "trainer.json", checkpointsBeforeKill, random.Next(0, 150)),
            $"training finished before the kill after {checkpointsBeforeKill} checkpoints");
        Assert.False(File.Exists(Path.Combine(killed, "concept.safetensors")));

        bool resumable = Directory.EnumerateDirectories(killed, "checkpoint-*").Any(d => File.Exists(Path.Combine(d, "trainer.json")));
        CliRunner.RunOk(resumable ? [.. TrainArgs(killed), "--resume"] : TrainArgs(killed));

        AssertSameFiles(straight, killed, except: _ => false);
    }

    /// <summary>The stored rows, each job and image once (the table's key), in key order.</summary>
    private static List<ImageMetricRow> Rows(string outDir)
    {
        using var store = StudyResultStore.Open(Path.Combine(outDir, ShardSpec.All.ResultsFileName));
        var rows = store.ReadAll().ToList();
        Assert.Equal(rows.Count, rows.Select(r => (r.JobKey, r.ImageIndex)).Distinct().Count());
        return rows;
    }

    private static void AssertSameFiles(string expectedDir, string actualDir, Func<string, bool> except)
    {
        List<string> Files(string dir) => Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f)).Where(f => !except(Path.GetFileName(f))).Order(StringComparer.Ordinal).ToList();
        var expected = Files(expectedDir);
        Assert.Equal(expected, Files(actualDir));
        foreach (string file in expected)
            Assert.True(File.ReadAllBytes(Path.Combine(expectedDir, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actualDir, file))),
                $"{file} differs from the uninterrupted run's");
    }

    [GeneratedRegex(@"(\d+) job\(s\) run, (\d+) already finished")]
    private static partial Regex JobCounts();
}
