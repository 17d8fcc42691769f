using System.Text.Json;
using PersonGen.Tests.Support;

namespace PersonGen.Tests.World;

public class DemoCommandTests
{
    [Fact]
    public void A_small_demo_fine_tunes_studies_reports_and_resumes_without_redoing_work()
    {
        string output = TestPaths.NewTempDirectory();
        string[] args =
        [
            "demo", "--out", output, "--finetune-steps", "3", "--class-images", "2", "--steps", "3", "--seeds", "0",
            "--images-per-prompt", "1", "--strategy", "base:w=7", "--strategy", "mixed:ws=2|5,wc=7-ws",
        ];
        string first = CliRunner.RunOk(args);
        Assert.Contains("report:", first);
        Assert.Contains("(svdiff, 3 steps, lr 0.01)", first.ReplaceLineEndings(" "));
        Assert.True(File.Exists(Path.Combine(output, "concept", "concept.safetensors")));
        Assert.True(File.Exists(Path.Combine(output, "report.html")));
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var keys = summary.RootElement.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Equal(new HashSet<string> { "base:w=7", "mixed:wc=5,ws=2", "mixed:wc=2,ws=5" }, keys);
        Assert.Equal(3 * 2, summary.RootElement.GetProperty("base:w=7").GetProperty("rows_per_image").GetDouble());

        // The study file it writes is portable (paths relative to it) and is the study its results were made for.
        using (var study = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "study.json"))))
            Assert.Equal(Path.Combine("concept", "concept.safetensors"), study.RootElement.GetProperty("concepts")[0].GetProperty("checkpoint").GetString());
        CliRunner.RunOk("study", "report", Path.Combine(output, "study.json"), "--out", output);

        var written = File.GetLastWriteTimeUtc(Path.Combine(output, "concept", "concept.safetensors"));
        CliRunner.RunOk(args); // a rerun finds the checkpoint and every job finished
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(output, "concept", "concept.safetensors")));
        Assert.Equal(6 * 3, Directory.GetFiles(Path.Combine(output, "images"), "*.png", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public void Bad_seeds_give_one_clear_error()
    {
        var (code, _, error) = CliRunner.Run("demo", "--out", TestPaths.NewTempDirectory(), "--seeds", "0,x");
        Assert.Equal(1, code);
        Assert.Contains("--seeds: 'x'", error);
    }
}
