using PersonGen.Cli;
using PersonGen.IO;
using PersonGen.Models.Clip;
using PersonGen.Tests.Support;
using PersonGen.World;
using static TorchSharp.torch;

namespace PersonGen.Tests.Cli;

[Collection(GlobalRandomCollection.Name)]
public class WorldCommandTests
{
    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(Program.BuildRootCommand(), args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static string[] Pretrain(string folder, int steps, params string[] extra) =>
        ["world", "pretrain", "--out", folder, "--steps", steps.ToString(), "--batch-size", "4", "--seed", "5", "--checkpoint-every", "1", .. extra];

    private static Dictionary<string, Tensor> Weights(string folder) =>
        SafetensorsFile.Load(Path.Combine(folder, WorldModelLayout.UnetWeightsFile))
            .Concat(SafetensorsFile.Load(Path.Combine(folder, WorldModelLayout.TextEncoderWeightsFile)))
            .ToDictionary(kv => kv.Key, kv => kv.Value);

    [Fact]
    public void Pretrain_writes_a_loadable_model_and_a_resumed_run_equals_an_uninterrupted_one()
    {
        string straight = TestPaths.NewTempDirectory(), resumed = TestPaths.NewTempDirectory();

        var (code, output, error) = Run(Pretrain(straight, 3));
        Assert.True(code == 0, error);
        Assert.Contains("step 3/3", output);
        Assert.Single(Directory.GetDirectories(straight, "checkpoint-*"));
        Assert.Equal(4, File.ReadAllLines(Path.Combine(straight, "loss.csv")).Length);

        Assert.Equal(0, Run(Pretrain(resumed, 2)).Code);
        var (again, _, refused) = Run(Pretrain(resumed, 3));
        Assert.NotEqual(0, again);
        Assert.Contains("--resume", refused);
        var (code3, output3, error3) = Run(Pretrain(resumed, 3, "--resume"));
        Assert.True(code3 == 0, error3);
        Assert.Contains("resuming at step 2 of 3", output3);

        var a = Weights(straight);
        var b = Weights(resumed);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, value) in a)
            Assert.True(value.equal(b[name]).all().item<bool>(), $"{name} differs after resuming");

        // The concept placeholder, never in a base caption, is written as the identifiers' mean row: a rare "individual" word.
        var tokenizer = ClipTokenizer.FromFolder(Path.Combine(straight, "tokenizer"));
        long Id(string word) => tokenizer.SingleTokenId(word)!.Value;
        var embedding = a[WorldModelLayout.TokenEmbeddingName];
        using var identifierMean = embedding.index_select(0, tensor(ShapesWorld.Identifiers.Select(i => Id(i.Token)).ToArray())).mean([0L]);
        Assert.True(embedding[Id("sks")].allclose(identifierMean, rtol: 0, atol: 1e-6), "the sks row is not the identifiers' mean");
        Assert.False(embedding[Id("xqz")].allclose(identifierMean, rtol: 0, atol: 1e-6), "identifier rows must stay as trained");

        using var sampler = new WorldSampler(straight);
        using var images = sampler.Generate("a photo of a xqz triangle on ocean", count: 1, seed: 1, steps: 3);
        Assert.Equal([1L, 3, 16, 16], images.shape);
    }

    [Fact]
    public void Pretrain_rejects_bad_options_with_one_line()
    {
        var (code, _, error) = Run("world", "pretrain", "--out", TestPaths.NewTempDirectory(), "--batch-size", "0");
        Assert.NotEqual(0, code);
        Assert.Contains("--batch-size", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
