using PersonGen.Diffusion;
using PersonGen.IO;
using PersonGen.Models;
using PersonGen.Runtime;
using PersonGen.Tests.Support;
using PersonGen.Training;
using static TorchSharp.torch;

namespace PersonGen.Tests.Training;

/// <summary>Concept fine-tuning end to end: real photos, the real tiny models, the CLI, checkpoints, parity and errors.</summary>
public sealed class ConceptTrainingTests
{
    private static readonly Lazy<string> SmallModel = new(() => TinyModelFolder.Create(TestPaths.NewTempDirectory(), seed: 3,
        new TinyModelOptions { SampleSize = 8, UnetChannels = [8, 16], VaeChannels = [8, 16], TextHiddenSize = 16, VocabSize = 1000 }));

    /// <summary>Three real DreamBooth photos of the dog.</summary>
    private static readonly Lazy<string> DogPhotos = new(() =>
    {
        string dir = TestPaths.NewTempDirectory();
        foreach (string name in new[] { "00.jpg", "01.jpg", "02.jpg" })
            File.Copy(TestPaths.Data("dreambooth", "dataset", "dog", name), Path.Combine(dir, name));
        return dir;
    });

    private static string Tiny => TestPaths.Golden("tiny_sd2");

    private static string Placeholder(string method) => method is "custom-diffusion" or "textual-inversion" ? "<sks-dog>" : "sks";

    [Theory]
    [InlineData("svdiff", "base")]
    [InlineData("custom-diffusion", "mixed:wc=3.5,ws=3.5")]
    public void A_short_real_data_run_through_the_cli_feeds_persongen_sample(string method, string strategy)
    {
        string outDir = TestPaths.NewTempDirectory();
        string token = Placeholder(method);
        string trained = CliRunner.RunOk("train", "--method", method, "--model", Tiny, "--images", DogPhotos.Value,
            "--token", token, "--class", "dog", "--steps", "2", "--out", outDir, "--lr", "1e-2", "--flip");
        string concept = Path.Combine(outDir, "concept.safetensors");
        Assert.Contains(concept, trained.ReplaceLineEndings(""));
        using (var file = SafetensorsFile.Open(concept))
        {
            Assert.Equal(method, file.Metadata[ConceptCheckpoint.MethodKey]);
            Assert.Equal(token, file.Metadata[ConceptCheckpoint.TokenKey]);
            Assert.Equal("dog", file.Metadata[ConceptCheckpoint.ClassKey]);
            Assert.Equal("2", file.Metadata[ConceptCheckpoint.StepKey]);
            Assert.Equal(Path.GetFullPath(Tiny), Path.GetFullPath(file.Metadata[ConceptCheckpoint.BaseModelKey]));
        }
        string samples = TestPaths.NewTempDirectory();
        CliRunner.RunOk("sample", "--model", Tiny, "--concept", concept, "--prompt", "a {} on the beach", "--placeholder", token,
            "--class", "dog", "--strategy", strategy, "--steps", "2", "--out", samples);
        Assert.NotEmpty(Directory.EnumerateFiles(samples, "*.png", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("svdiff")]
    [InlineData("dreambooth")]
    [InlineData("custom-diffusion")]
    [InlineData("textual-inversion")]
    [InlineData("lora")]
    [InlineData("full")]
    public void Each_methods_checkpoint_loads_back_changes_outputs_and_reproduces_the_trained_model(string method)
    {
        string token = Placeholder(method);
        string prompt = $"a photo of a {token} dog";
        using var trainedModel = StableDiffusionModel.Load(SmallModel.Value, ComputeOptions.Cpu);
        string path = ConceptTraining.Train(trainedModel, new ConceptTrainingRequest
        {
            Method = method,
            ImageFolder = DogPhotos.Value,
            Token = token,
            ClassWord = "dog",
            OutDir = TestPaths.NewTempDirectory(),
            Steps = 2,
            LearningRate = method == "lora" ? 1e-1 : 1e-2,
            Seed = 5,
        });
        Assert.NotNull(trainedModel.Concept);
        using var trainedOutput = Outputs(trainedModel, prompt, ModelWeights.FineTuned);

        using var baseModel = StableDiffusionModel.Load(SmallModel.Value, ComputeOptions.Cpu);
        using var checkpoint = ConceptCheckpoint.Load(path);
        var delta = checkpoint.ApplyTo(new ConceptModel(baseModel.Unet, baseModel.TextEncoder, new TokenizerVocabulary(baseModel.Tokenizer)));
        baseModel.Concept = delta;
        using var loadedOutput = Outputs(baseModel, prompt, ModelWeights.FineTuned);
        Assert.Equal(0f, (loadedOutput - trainedOutput).abs().max().item<float>());

        using var switchedOff = Outputs(baseModel, prompt, ModelWeights.Original);
        Assert.True((switchedOff - trainedOutput).abs().max().item<float>() > 1e-6f, $"{method}: the concept does not change the outputs");
        delta.Dispose();
    }

    /// <summary>The text embedding of <paramref name="prompt"/> and a UNet prediction on it, concatenated.</summary>
    private static Tensor Outputs(StableDiffusionModel model, string prompt, ModelWeights weights)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var embedding = model.EncodePrompt(prompt, weights);
        model.Concept!.SetEnabled(ConceptModel.UnetComponent, weights == ModelWeights.FineTuned);
        var generator = new Generator(7);
        var (channels, _) = model.LatentFormat;
        int size = model.DefaultImageSize / model.LatentFormat.Factor;
        var latents = randn([1, channels, size, size], generator: generator);
        var prediction = model.Unet.forward(latents, tensor(500L), embedding);
        model.Concept.SetEnabled(ConceptModel.UnetComponent, true);
        return cat([embedding.flatten(), prediction.flatten()]).MoveToOuterDisposeScope();
    }

    [Fact]
    public void A_run_interrupted_after_a_checkpoint_resumes_through_the_cli_to_the_uninterrupted_result()
    {
        string[] Args(string outDir, int steps, int saveEvery) =>
            ["train", "--method", "lora", "--model", SmallModel.Value, "--images", DogPhotos.Value, "--token", "sks", "--class", "dog",
             "--steps", steps.ToString(), "--save-every", saveEvery.ToString(), "--out", outDir, "--seed", "9", "--flip"];
        string straight = TestPaths.NewTempDirectory();
        CliRunner.RunOk(Args(straight, 4, 2));

        string interrupted = TestPaths.NewTempDirectory();
        CliRunner.RunOk(Args(interrupted, 3, 2)); // "killed" after step 3: checkpoint-2 is the last resumable state
        var (code, _, error) = CliRunner.Run(Args(interrupted, 4, 2));
        Assert.Equal(1, code);
        Assert.Contains("--resume", error);
        string resumed = CliRunner.RunOk([.. Args(interrupted, 4, 2), "--resume"]);
        Assert.Contains("for 4 steps", resumed);

        var expected = SafetensorsFile.Load(Path.Combine(straight, "concept.safetensors"));
        var actual = SafetensorsFile.Load(Path.Combine(interrupted, "concept.safetensors"));
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, value) in expected) Assert.Equal(0f, (value - actual[key]).abs().max().item<float>());
    }

    [Fact]
    public void The_golden_svdiff_deltas_on_tiny_sd2_reproduce_the_reference_outputs()
    {
        using var model = StableDiffusionModel.Load(Tiny, ComputeOptions.Cpu);
        using var checkpoint = ConceptCheckpoint.Load(TestPaths.Golden("svdiff", "checkpoint-0"));
        using var delta = checkpoint.ApplyTo(new ConceptModel(model.Unet, model.TextEncoder, new TokenizerVocabulary(model.Tokenizer)));
        using var io = SafetensorsFile.Open(TestPaths.Golden("svdiff", "io.safetensors"));
        using var sample = io.Read("unet.sample");
        using var timestep = io.Read("unet.timestep");
        using var context = io.Read("unet.encoder_hidden_states");
        using var ids = io.Read("te.input_ids");
        using var expectedUnet = io.Read("svd.unet.out_sample");
        using var expectedText = io.Read("svd.te.last_hidden_state");
        using var noGrad = no_grad();
        using var unet = model.Unet.forward(sample, timestep, context);
        using var text = model.TextEncoder.forward(ids);
        Assert.True((unet - expectedUnet).abs().max().item<float>() <= 1e-4f, "svd.unet.out_sample differs");
        Assert.True((text.LastHiddenState - expectedText).abs().max().item<float>() <= 1e-4f, "svd.te.last_hidden_state differs");
        using var baseUnet = io.Read("base.unet.out_sample");
        Assert.True((expectedUnet - baseUnet).abs().max().item<float>() > 1e-3f, "the golden deltas should change the UNet output");
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "empty-folder", "holds no JPEG/PNG/WebP images" },
        { "unreadable-image", "not a readable image" },
        { "token-in-vocabulary", "is already in the vocabulary" },
        { "class-missing", "the class word is missing" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_training_input_is_one_clear_line(string problem, string expected)
    {
        string images = DogPhotos.Value, method = "textual-inversion", token = "<sks-dog>", classWord = "dog";
        switch (problem)
        {
            case "empty-folder": images = TestPaths.NewTempDirectory(); break;
            case "unreadable-image":
                images = TestPaths.NewTempDirectory();
                File.WriteAllText(Path.Combine(images, "broken.jpg"), "not a jpeg");
                break;
            case "token-in-vocabulary": token = "dog"; break;
            case "class-missing": classWord = " "; break;
        }
        var (code, output, error) = CliRunner.Run("train", "--method", method, "--model", Tiny, "--images", images,
            "--token", token, "--class", classWord, "--steps", "1", "--out", TestPaths.NewTempDirectory());
        Assert.Equal(1, code);
        Assert.Empty(output);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
    }

    [Theory]
    [InlineData("sample")]
    [InlineData("generate")]
    public void A_concept_for_another_base_architecture_is_one_clear_line(string command)
    {
        string outDir = TestPaths.NewTempDirectory();
        CliRunner.RunOk("train", "--method", "svdiff", "--model", SmallModel.Value, "--images", DogPhotos.Value,
            "--token", "sks", "--class", "dog", "--steps", "1", "--out", outDir);
        string concept = Path.Combine(outDir, "concept.safetensors");
        string[] args = command == "sample"
            ? ["sample", "--model", Tiny, "--concept", concept, "--prompt", "a {}", "--placeholder", "sks", "--class", "dog", "--strategy", "base", "--steps", "1", "--out", TestPaths.NewTempDirectory()]
            : ["generate", "--model", Tiny, "--concept", concept, "--prompt", "a sks dog", "--steps", "1", "--out", TestPaths.NewTempDirectory()];
        var (code, _, error) = CliRunner.Run(args);
        Assert.Equal(1, code);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.True(line.Contains("base model", StringComparison.Ordinal), line);
    }
}
