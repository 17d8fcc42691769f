using System.Text.Json;
using PersonGen.Diffusion;
using PersonGen.IO;
using PersonGen.Runtime;
using PersonGen.Sampling;
using PersonGen.Sampling.Strategies;
using PersonGen.Tests.Support;
using PersonGen.Training;
using static TorchSharp.torch;

namespace PersonGen.Tests.Sampling;

/// <summary>
/// Each case of golden/strategies/cases.json, run through its own `persongen sample` command line (final latents and,
/// where stored, the PNG pixels) and through the library step by step (ε̃ of every step, ProFusion's fused latents,
/// Masked's maps and masks).
/// </summary>
public class StrategyGoldenTests
{
    private static JsonElement Cases
    {
        get
        {
            using var document = JsonDocument.Parse(File.ReadAllText(TestPaths.Golden("strategies", "cases.json")));
            return document.RootElement.GetProperty("cases").Clone();
        }
    }

    public static TheoryData<string> CaseNames() => new(Cases.EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    private static JsonElement Case(string name) => Cases.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    /// <summary>The case's command line without "persongen", with {root} filled in and OUT/ replaced by <paramref name="output"/>.</summary>
    private static string[] Arguments(JsonElement testCase, string output)
    {
        var argvElement = testCase.GetProperty("cli_argv");
        var argv = argvElement.ValueKind == JsonValueKind.String
            ? JsonSerializer.Deserialize<string[]>(argvElement.GetString()!)!
            : argvElement.EnumerateArray().Select(a => a.GetString()!).ToArray();
        string root = TestPaths.Golden();
        return argv.Skip(1).Select(a => a.Replace("{root}", root).Replace("OUT/", output + "/")).ToArray();
    }

    private static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at < 0 ? null : args[at + 1];
    }

    private static Dictionary<string, Tensor> Golden(string file) => SafetensorsFile.Load(TestPaths.Golden("strategies", file));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void The_cli_reproduces_the_reference_final_latents_and_images(string name)
    {
        var testCase = Case(name);
        string output = TestPaths.NewTempDirectory();
        using var scope = NewDisposeScope();
        var expected = Golden(testCase.GetProperty("file").GetString()!);
        bool images = expected.ContainsKey("image_uint8");
        var args = Arguments(testCase, output);
        CliRunner.RunOk(images ? args : [.. args, "--no-decode"]);

        var actual = SafetensorsFile.Load(Path.Combine(output, name + ".safetensors"));
        TensorAssert.CloseRelativeToMax(expected["final_latents"], actual["latents"], 1e-4, $"{name} final latents");
        if (!images) return;
        // The PNGs the command wrote, as uint8 (N, H, W, 3) like the reference's PIL images.
        string folder = Directory.GetDirectories(Option(args, "--out")!).Single();
        var pngs = Enumerable.Range(0, 2).Select(i => Path.Combine(folder, $"{i}.png")).ToArray();
        var pixels = ImageIO.LoadTensor(pngs, 128, 128, PixelRange.ZeroToOne).mul(255).round().permute(0, 2, 3, 1);
        var reference = expected["image_uint8"].to_type(ScalarType.Float32);
        Assert.True(TensorAssert.MaxAbsDifference(pixels, reference) <= 1, $"{name}: PNG pixels differ from the reference by more than 1 level");
    }

    /// <summary>Loads tiny_sd2 (with the case's concept), runs <paramref name="spec"/> recorded step by step from the golden x_T.</summary>
    private static SamplingResult RunRecorded(string spec, string? concept = null, string? refineNoise = null)
    {
        using var model = StableDiffusionModel.Load(TestPaths.Golden("tiny_sd2"), ComputeOptions.Cpu);
        if (concept is not null)
        {
            using var checkpoint = ConceptCheckpoint.Load(concept);
            model.Concept = checkpoint.ApplyTo(new ConceptModel(model.Unet, model.TextEncoder, new TokenizerVocabulary(model.Tokenizer)));
        }
        using var sampler = new PersonalizedSampler(model);
        var request = TinyModelFixture.Request;
        using var init = LatentNoise.Read(model, TestPaths.Golden("strategies", "init_latents.safetensors"), sampler.LatentShape(request));
        var inputs = new Dictionary<string, Tensor>();
        if (refineNoise is not null) inputs[ProFusionStrategy.NoiseInput] = SafetensorsFile.Load(refineNoise)["noise"];
        try
        {
            return sampler.Sample(new RecordingStrategy(StrategyRegistry.Parse(spec)), request, init, inputs, decode: false);
        }
        finally
        {
            foreach (var tensor in inputs.Values) tensor.Dispose();
        }
    }

    /// <summary>ε̃ of every step (and of the superclass trajectory while it runs) against the reference's.</summary>
    private static void AssertEveryStep(Dictionary<string, Tensor> expected, SamplingResult result, string what)
    {
        var eps = result.Diagnostics["eps"];
        Assert.Equal(TinyModelFixture.Steps, eps.Count);
        for (int i = 0; i < eps.Count; i++)
            TensorAssert.CloseRelativeToMax(expected[$"step{i}.eps"], eps[i], 1e-4, $"{what} step {i} ε̃");
        TensorAssert.CloseRelativeToMax(expected["final_latents"], result.Latents, 1e-4, $"{what} final latents");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void The_library_reproduces_the_reference_at_every_step(string name)
    {
        var testCase = Case(name);
        var args = Arguments(testCase, TestPaths.NewTempDirectory());
        using var scope = NewDisposeScope();
        var expected = Golden(testCase.GetProperty("file").GetString()!);
        using var result = RunRecorded(Option(args, "--strategy")!, Option(args, "--concept"), Option(args, "--refine-noise"));
        AssertEveryStep(expected, result, name);

        if (result.Diagnostics.TryGetValue("eps_superclass", out var superclass))
        {
            Assert.NotEmpty(superclass);
            for (int i = 0; i < superclass.Count; i++)
                TensorAssert.CloseRelativeToMax(expected[$"step{i}.eps_superclass"], superclass[i], 1e-4, $"{name} step {i} superclass ε̃");
        }
        if (expected.ContainsKey("step0.latents_fused"))
        {
            var prepared = result.Diagnostics["prepared"];
            for (int i = 0; i < prepared.Count; i++)
                TensorAssert.CloseRelativeToMax(expected[$"step{i}.latents_fused"], prepared[i], 1e-4, $"{name} step {i} fused latents");
        }
        if (expected.TryGetValue("masks", out var masks))
        {
            var maps = result.Diagnostics["attention_map"];
            var ours = result.Diagnostics["mask"];
            int first = TinyModelFixture.Steps - ours.Count;
            Assert.Equal(masks.shape[1], ours.Count);
            for (int k = 0; k < ours.Count; k++)
            {
                TensorAssert.CloseRelativeToMax(expected[$"step{first + k}.amap"], maps[k].squeeze(1), 1e-4, $"{name} step {first + k} attention map");
                Assert.True((masks.select(1, k) == ours[k].squeeze(1)).all().item<bool>(), $"{name} step {first + k}: the mask differs from the reference's");
            }
        }
    }

    [Theory]
    [InlineData("superclass:w=7,super=noft", 0.0, 7.0)]
    [InlineData("mixed:wc=3.5,ws=3.5,super=noft", 3.5, 3.5)]
    public void NoFT_superclass_rows_are_the_plain_models_outputs(string spec, double conceptScale, double superclassScale)
    {
        // Issue 10, item 10: the golden `superclass` case ran on the plain model, an oracle for the original weights;
        // `mixed_svd` ran with the concept fused. Both saw x_T at step 0 with rows u, c, s.
        using var scope = NewDisposeScope();
        var plain = Golden("superclass.safetensors")["step0.unet_out"];
        var tuned = Golden("mixed_svd.safetensors")["step0.unet_out"];
        using var result = RunRecorded(spec, concept: TestPaths.Golden("svdiff", "checkpoint-0"));
        string Rows(string prompt) => "branch." + new Branch(prompt, 0, ModelWeights.Original, ModelWeights.Original);
        TensorAssert.CloseRelativeToMax(plain.narrow(0, 0, 2), result.Diagnostics[Rows(PromptNames.Unconditional)][0], 1e-4, "original ε_u");
        TensorAssert.CloseRelativeToMax(plain.narrow(0, 4, 2), result.Diagnostics[Rows(PromptNames.Superclass)][0], 1e-4, "original ε_s");
        var (u, c) = (tuned.narrow(0, 0, 2), tuned.narrow(0, 2, 2));
        var expected = u + conceptScale * (c - u) + superclassScale * (plain.narrow(0, 4, 2) - plain.narrow(0, 0, 2));
        TensorAssert.CloseRelativeToMax(expected, result.Diagnostics["eps"][0], 1e-4, $"{spec} step 0 ε̃");
    }
}
