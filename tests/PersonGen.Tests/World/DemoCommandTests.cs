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
            "demo", "--out", output, "--finetune-steps", "100", "--class-images", "2", "--steps", "10", "--seeds", "0",
            "--images-per-prompt", "1", "--strategy", "base:w=7", "--strategy", "superclass:w=7", "--strategy", "mixed:ws=2|5,wc=7-ws",
        ];
        string first = CliRunner.RunOk(args);
        Assert.Contains("report:", first);
        Assert.Contains("(svdiff, 100 steps, lr 0.01)", first.ReplaceLineEndings(" "));
        Assert.True(File.Exists(Path.Combine(output, "concept", "concept.safetensors")));
        Assert.True(File.Exists(Path.Combine(output, "report.html")));
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var keys = summary.RootElement.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Equal(new HashSet<string> { "base:w=7", "superclass:w=7", "mixed:wc=5,ws=2", "mixed:wc=2,ws=5" }, keys);
        Assert.Equal(10 * 2, summary.RootElement.GetProperty("base:w=7").GetProperty("rows_per_image").GetDouble());
        Assert.Equal(10 * 3, summary.RootElement.GetProperty("mixed:wc=5,ws=2").GetProperty("rows_per_image").GetDouble());

        // Measured with these arguments: Base 0.78 / 0.83, Superclass 0.36 / 1.0, Mixed ω_s = 2 0.75 / 1.0, ω_s = 5 0.42 / 1.0.
        (double Identity, double Context) Point(string spec) =>
            (summary.RootElement.GetProperty(spec).GetProperty("identity").GetDouble(), summary.RootElement.GetProperty(spec).GetProperty("context").GetDouble());
        var (baseline, superclass) = (Point("base:w=7"), Point("superclass:w=7"));
        var (mostlyConcept, mostlyClass) = (Point("mixed:wc=5,ws=2"), Point("mixed:wc=2,ws=5"));
        foreach (var (identity, context) in new[] { baseline, superclass, mostlyConcept, mostlyClass })
            Assert.True(identity is >= 0 and <= 1 && context is >= 0 and <= 1, $"identity {identity}, context {context} outside [0, 1]");
        Assert.True(baseline.Identity > superclass.Identity + 0.2, $"Base identity {baseline.Identity} vs Superclass {superclass.Identity}");
        Assert.True(superclass.Context > baseline.Context, $"Superclass context {superclass.Context} vs Base {baseline.Context}");
        Assert.True(mostlyConcept.Identity > mostlyClass.Identity + 0.2, $"Mixed ω_s = 2 identity {mostlyConcept.Identity} vs ω_s = 5 {mostlyClass.Identity}");

        // The study file it writes is portable (paths relative to it) and is the study its results were made for.
        using (var study = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "study.json"))))
            Assert.Equal(Path.Combine("concept", "concept.safetensors"), study.RootElement.GetProperty("concepts")[0].GetProperty("checkpoint").GetString());
        CliRunner.RunOk("study", "report", Path.Combine(output, "study.json"), "--out", output);

        var written = File.GetLastWriteTimeUtc(Path.Combine(output, "concept", "concept.safetensors"));
        CliRunner.RunOk(args); // a rerun finds the checkpoint and every job finished
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(output, "concept", "concept.safetensors")));
        Assert.Equal(6 * 4, Directory.GetFiles(Path.Combine(output, "images"), "*.png", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public void Bad_seeds_give_one_clear_error()
    {
        var (code, _, error) = CliRunner.Run("demo", "--out", TestPaths.NewTempDirectory(), "--seeds", "0,x");
        Assert.Equal(1, code);
        Assert.Contains("--seeds: 'x'", error);
    }
}
