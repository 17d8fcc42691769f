using PersonGen.IO;
using PersonGen.Sampling;
using PersonGen.Tests.Support;
using static TorchSharp.torch;

namespace PersonGen.Tests.Sampling;

/// <summary>Issue 10, item 14: sampling runs in memory-bounded batches whose images equal the unbatched run's.</summary>
public class BatchedSamplingTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    public static TheoryData<string> EveryStrategy() => FiniteResultTests.EveryStrategy();

    [Theory]
    [MemberData(nameof(EveryStrategy))]
    public void Batches_of_two_give_the_latents_and_masks_of_one_batch_of_three(string spec)
    {
        using var scope = NewDisposeScope();
        var strategy = StrategyRegistry.Parse(spec);
        var request = TinyModelFixture.Request with { ImageCount = 3 };
        using var whole = fixture.Sampler.Sample(strategy, request, decode: false);
        var latents = new List<Tensor>();
        var masks = new List<List<Tensor>>();
        var firsts = new List<int>();
        fixture.Sampler.SampleInBatches(strategy, request, 2, (first, result) =>
        {
            firsts.Add(first);
            latents.Add(result.Latents.clone());
            if (result.Diagnostics.TryGetValue("mask", out var stepMasks)) masks.Add(stepMasks.Select(m => m.clone()).ToList());
        }, decode: false);
        Assert.Equal([0, 2], firsts);
        TensorAssert.CloseRelativeToMax(whole.Latents, cat(latents), 1e-5, spec);
        if (!whole.Diagnostics.TryGetValue("mask", out var wholeMasks)) return;
        for (int k = 0; k < wholeMasks.Count; k++)
            TensorAssert.Close(wholeMasks[k], cat(masks.Select(m => m[k]).ToList()), 1e-5, $"{spec} mask of step {k}");
    }

    [Fact]
    public void A_given_profusion_noise_stream_is_sliced_per_batch()
    {
        using var scope = NewDisposeScope();
        var strategy = StrategyRegistry.Parse("profusion:wc=3.5,ws=3.5,r=1,gr=7");
        var request = TinyModelFixture.Request with { ImageCount = 3 };
        long[] latent = fixture.Sampler.LatentShape(request);
        using var generator = new TorchSharp.torch.Generator(5);
        var inputs = new Dictionary<string, Tensor> { ["refine_noise"] = randn([1, TinyModelFixture.Steps, .. latent], generator: generator) };
        using var whole = fixture.Sampler.Sample(strategy, request, inputs: inputs, decode: false);
        var latents = new List<Tensor>();
        fixture.Sampler.SampleInBatches(strategy, request, 1, (_, result) => latents.Add(result.Latents.clone()), inputs: inputs, decode: false);
        TensorAssert.CloseRelativeToMax(whole.Latents, cat(latents), 1e-5, "ProFusion with a given stream");
    }

    [Fact]
    public void The_sample_command_writes_the_same_files_in_batches_of_one()
    {
        string[] Run(string output, params string[] extra) =>
        [
            "sample", "--model", TestPaths.Golden("tiny_sd2"), "--concept", TestPaths.Golden("svdiff", "checkpoint-0"),
            "--prompt", "a {} in the snow", "--placeholder", "sks", "--class", "dog", "--steps", "4", "-n", "3",
            "--strategy", "base:w=7", "--strategy", "masked:tsw=2,q=0.7", "--strategy", "profusion:wc=3.5,ws=3.5,r=1,gr=7",
            "--save-masks", "--out", output, "--latents-out", Path.Combine(output, "latents.safetensors"), .. extra,
        ];
        string whole = TestPaths.NewTempDirectory(), batched = TestPaths.NewTempDirectory();
        CliRunner.RunOk(Run(whole));
        CliRunner.RunOk(Run(batched, "--batch-size", "1"));

        static string[] Files(string root) => [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal)];
        Assert.Equal(Files(whole), Files(batched));
        Assert.Contains(Files(whole), f => f.StartsWith("masked_", StringComparison.Ordinal) && f.Contains("masks", StringComparison.Ordinal) && f.EndsWith("_2.png", StringComparison.Ordinal));
        using var scope = NewDisposeScope();
        var expected = SafetensorsFile.Load(Path.Combine(whole, "latents.safetensors"));
        var actual = SafetensorsFile.Load(Path.Combine(batched, "latents.safetensors"));
        foreach (var (name, tensor) in expected) TensorAssert.CloseRelativeToMax(tensor, actual[name], 1e-5, name);
        foreach (string png in Files(whole).Where(f => f.EndsWith(".png", StringComparison.Ordinal) && !f.Contains("masks", StringComparison.Ordinal)))
        {
            using var a = ImageIO.LoadTensor([Path.Combine(whole, png)], 128, 128, PixelRange.ZeroToOne);
            using var b = ImageIO.LoadTensor([Path.Combine(batched, png)], 128, 128, PixelRange.ZeroToOne);
            Assert.True(TensorAssert.MaxAbsDifference(a, b) * 255 <= 1, $"{png} differs by more than one level");
        }
        foreach (string mask in Files(whole).Where(f => f.Contains("masks", StringComparison.Ordinal)))
            Assert.Equal(File.ReadAllBytes(Path.Combine(whole, mask)), File.ReadAllBytes(Path.Combine(batched, mask)));
    }

    [Fact]
    public void The_sample_command_refuses_a_batch_size_below_one()
    {
        var (code, _, error) = CliRunner.Run("sample", "--model", TestPaths.Golden("tiny_sd2"), "--prompt", "a {} in the snow",
            "--placeholder", "sks", "--class", "dog", "--strategy", "base:w=7", "--batch-size", "0", "--out", TestPaths.NewTempDirectory());
        Assert.Equal(1, code);
        Assert.Contains("--batch-size 0 must be at least 1", error);
    }
}
