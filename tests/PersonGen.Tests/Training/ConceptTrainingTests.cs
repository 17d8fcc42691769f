using PersonGen.Diffusion;
using PersonGen.IO;
using PersonGen.Runtime;
using PersonGen.Tests.Support;
using PersonGen.TestSupport;
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
        string Sample(params string[] extra)
        {
            string samples = TestPaths.NewTempDirectory();
            CliRunner.RunOk(["sample", "--model", Tiny, "--prompt", "a {} on the beach", "--placeholder", token,
                "--class", "dog", "--strategy", strategy, "--steps", "2", "--out", samples, .. extra]);
            return samples;
        }
        string withConcept = Sample("--concept", concept), without = Sample();
        string image = Path.Combine(PersonGen.Evaluation.Studies.StudyRunner.Slug(PersonGen.Sampling.StrategyRegistry.Parse(strategy).Spec), "0.png");
        Assert.Equal(new[] { "grid.png", image }.Order(StringComparer.Ordinal), Directory.EnumerateFiles(withConcept, "*.png", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(withConcept, f)).Order(StringComparer.Ordinal));
        using var tuned = ImageIO.Load(Path.Combine(withConcept, image));
        using var plain = ImageIO.Load(Path.Combine(without, image));
        using (var model = StableDiffusionModel.Load(Tiny, ComputeOptions.Cpu))
            Assert.Equal((model.DefaultImageSize, model.DefaultImageSize), (tuned.Width, tuned.Height));
        Assert.False(tuned.Bytes.SequenceEqual(plain.Bytes), "the sampled image does not show the trained concept");
        using var parameters = System.Text.Json.JsonDocument.Parse(ImageIO.ReadParameters(Path.Combine(withConcept, image))!);
        Assert.Equal(concept, parameters.RootElement.GetProperty("concept").GetString());
    }

    [Fact]
    public void Sampling_with_a_placeholder_other_than_the_trained_token_warns_on_stderr()
    {
        string outDir = TestPaths.NewTempDirectory();
        CliRunner.RunOk("train", "--method", "svdiff", "--model", Tiny, "--images", DogPhotos.Value, "--token", "sks", "--class", "dog",
            "--steps", "1", "--out", outDir);
        string concept = Path.Combine(outDir, "concept.safetensors");
        string[] Args(string placeholder) => ["sample", "--model", Tiny, "--concept", concept, "--prompt", "a {} on the beach",
            "--placeholder", placeholder, "--class", "dog", "--strategy", "base", "--steps", "1", "--out", TestPaths.NewTempDirectory(), "--no-decode"];
        var (code, _, error) = CliRunner.Run(Args("dog"));
        Assert.True(code == 0, error);
        Assert.Equal("warning: --placeholder 'dog' is not the token the concept was trained with ('sks'): the concept rows will not show it; pass --placeholder sks",
            Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        var (same, _, quiet) = CliRunner.Run(Args("sks"));
        Assert.Equal((0, ""), (same, quiet));
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

    private static string[] LoraArgs(string outDir, params string[] extra) =>
        ["train", "--method", "lora", "--model", SmallModel.Value, "--images", DogPhotos.Value, "--token", "sks", "--class", "dog",
         "--out", outDir, .. extra];

    private static string OneErrorLine(int code, string error)
    {
        Assert.True(code == 1, $"exit {code}: {error}");
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        return line;
    }

    [Theory]
    [InlineData("--lr", "1e-3", "--lr '0.0001'")]
    [InlineData("--seed", "10", "--seed '9'")]
    [InlineData("--steps", "2", "--steps '3'")] // fewer steps than the run, though not fewer than the checkpoint's 2
    [InlineData("--batch-size", "2", "--batch-size '1'")]
    [InlineData("--prompt-template", "a picture of a {}", "--prompt-template 'a photo of a {}'")]
    public void Resuming_with_a_setting_other_than_the_checkpoints_run_is_refused_naming_it_unless_overridden(string option, string value, string expected)
    {
        string outDir = TestPaths.NewTempDirectory();
        CliRunner.RunOk(LoraArgs(outDir, "--steps", "3", "--save-every", "2", "--seed", "9"));
        var changed = new Dictionary<string, string> { ["--steps"] = "3", ["--seed"] = "9", [option] = value };
        string[] resumed = [.. LoraArgs(outDir, "--resume"), .. changed.SelectMany(kv => new[] { kv.Key, kv.Value })];
        byte[] before = File.ReadAllBytes(Path.Combine(outDir, "concept.safetensors"));
        var (code, _, error) = CliRunner.Run(resumed);
        string line = OneErrorLine(code, error);
        Assert.Contains(expected, line);
        Assert.Contains("--resume-override", line);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(outDir, "concept.safetensors")));

        string overridden = CliRunner.RunOk([.. resumed, "--resume-override"]);
        Assert.Contains($"for {changed["--steps"]} steps", overridden);
    }

    [Fact]
    public void Resuming_to_fewer_steps_than_the_checkpoint_holds_is_refused_even_with_the_override()
    {
        string outDir = TestPaths.NewTempDirectory();
        CliRunner.RunOk(LoraArgs(outDir, "--steps", "5", "--save-every", "4"));
        var (code, _, error) = CliRunner.Run([.. LoraArgs(outDir, "--steps", "2", "--resume", "--resume-override")]);
        Assert.Contains("--steps 2 is below the step of the checkpoint to resume", OneErrorLine(code, error));
        Assert.Contains("step 4", error);
    }

    [Fact]
    public void A_finished_concept_is_not_replaced_without_overwrite_and_resume_without_a_checkpoint_is_refused()
    {
        string outDir = TestPaths.NewTempDirectory();
        CliRunner.RunOk(LoraArgs(outDir, "--steps", "1"));
        string concept = Path.Combine(outDir, "concept.safetensors");
        byte[] first = File.ReadAllBytes(concept);

        var (code, _, error) = CliRunner.Run(LoraArgs(outDir, "--steps", "1", "--seed", "4"));
        Assert.Contains("already holds a trained concept.safetensors: pass --overwrite", OneErrorLine(code, error));
        Assert.Equal(first, File.ReadAllBytes(concept));

        (code, _, error) = CliRunner.Run(LoraArgs(outDir, "--steps", "2", "--resume"));
        Assert.Contains("no checkpoint to resume", OneErrorLine(code, error));
        (code, _, error) = CliRunner.Run(LoraArgs(TestPaths.NewTempDirectory(), "--steps", "2", "--resume"));
        Assert.Contains("holds no checkpoint to resume: drop --resume", OneErrorLine(code, error));

        CliRunner.RunOk(LoraArgs(outDir, "--steps", "1", "--seed", "4", "--overwrite"));
        Assert.NotEqual(first, File.ReadAllBytes(concept));
    }

    [Fact]
    public void Overwrite_deletes_the_old_runs_checkpoints_so_a_later_resume_cannot_mix_the_runs()
    {
        string outDir = TestPaths.NewTempDirectory();
        CliRunner.RunOk(LoraArgs(outDir, "--steps", "3", "--save-every", "2"));
        var (code, _, error) = CliRunner.Run(LoraArgs(outDir, "--steps", "1"));
        Assert.Contains("--overwrite to start afresh", OneErrorLine(code, error));
        CliRunner.RunOk(LoraArgs(outDir, "--steps", "1", "--overwrite"));
        Assert.Empty(Directory.GetDirectories(outDir, "checkpoint-*"));
        using var file = SafetensorsFile.Open(Path.Combine(outDir, "concept.safetensors"));
        Assert.Equal("1", file.Metadata[ConceptCheckpoint.StepKey]);
    }

    [Theory]
    [InlineData("--steps", "0", "--steps 0 must be at least 1 (leave it out for the method's default, 800 for lora)")]
    [InlineData("--steps", "-3", "--steps -3 must be at least 1")]
    public void A_step_count_below_one_is_refused_instead_of_training_the_default(string option, string value, string expected)
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "never-created");
        var (code, _, error) = CliRunner.Run(LoraArgs(outDir, option, value));
        Assert.Contains(expected, OneErrorLine(code, error));
        Assert.False(Directory.Exists(outDir), "nothing may be written before the inputs are checked");
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

    [Fact]
    public void Validation_prompts_write_one_captioned_grid_per_validation_point_through_the_cli()
    {
        string outDir = TestPaths.NewTempDirectory();
        string[] prompts = ["a photo of a sks dog", "a sks dog in the snow"];
        string output = CliRunner.RunOk("train", "--method", "lora", "--model", SmallModel.Value, "--images", DogPhotos.Value,
            "--token", "sks", "--class", "dog", "--steps", "4", "--save-every", "2", "--out", outDir,
            "--validation-prompt", prompts[0], "--validation-prompt", prompts[1],
            "--validation-images", "3", "--validation-steps", "2", "--validation-seed", "4");
        Assert.Contains("validation grids in", output);
        string folder = Path.Combine(outDir, ValidationOptions.FolderName);
        Assert.Equal(["step-2.png", "step-4.png"], Directory.EnumerateFiles(folder).Select(Path.GetFileName).Order());

        // The layout of a 3-column grid of 2 rows of the model's 16-pixel images, captioned with their prompts.
        int size = 16;
        var blanks = Enumerable.Range(0, 6).Select(_ => new SkiaSharp.SKBitmap(size, size)).ToList();
        using var expected = ImageGrid.Create(blanks, 3, [.. prompts.SelectMany(p => Enumerable.Repeat(p, 3))]);
        foreach (var blank in blanks) blank.Dispose();
        foreach (int step in new[] { 2, 4 })
        {
            string path = Path.Combine(folder, $"step-{step}.png");
            using var grid = ImageIO.Load(path);
            Assert.Equal((expected.Width, expected.Height), (grid.Width, grid.Height));
            using var parameters = System.Text.Json.JsonDocument.Parse(ImageIO.ReadParameters(path)!);
            var root = parameters.RootElement;
            Assert.Equal(step, root.GetProperty("validation_step").GetInt64());
            Assert.Equal(4, root.GetProperty("seed").GetInt64());
            Assert.Equal(prompts, root.GetProperty("prompts").EnumerateArray().Select(e => e.GetString()!));
        }
    }

    [Theory]
    [InlineData("a photo of a dog")]
    [InlineData("a photo of asks dog")]
    public void A_validation_prompt_without_the_placeholder_is_one_clear_line(string prompt)
    {
        var (code, output, error) = CliRunner.Run("train", "--method", "lora", "--model", Tiny, "--images", DogPhotos.Value,
            "--token", "sks", "--class", "dog", "--steps", "1", "--out", TestPaths.NewTempDirectory(), "--validation-prompt", prompt);
        Assert.Equal(1, code);
        Assert.Empty(output);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains("--validation-prompt", line);
        Assert.Contains("does not contain the placeholder token 'sks'", line);
    }

    [Theory]
    [InlineData("svdiff")]
    [InlineData("textual-inversion")]
    [InlineData("lora")]
    public void Validation_changes_neither_the_trained_weights_nor_the_random_stream_of_training(string method)
    {
        string token = Placeholder(method);
        (List<double> Losses, Dictionary<string, Tensor> Concept, int Grids) Run(ValidationOptions validation)
        {
            using var model = StableDiffusionModel.Load(SmallModel.Value, ComputeOptions.Cpu);
            var progress = new LossRecorder();
            string outDir = TestPaths.NewTempDirectory();
            string path = ConceptTraining.Train(model, new ConceptTrainingRequest
            {
                Method = method,
                ImageFolder = DogPhotos.Value,
                Token = token,
                ClassWord = "dog",
                OutDir = outDir,
                Steps = 4,
                SaveEvery = 2,
                LearningRate = 1e-2,
                Seed = 3,
                Flip = true,
                Validation = validation,
            }, progress);
            (model.Concept as IDisposable)?.Dispose();
            string grids = Path.Combine(outDir, ValidationOptions.FolderName);
            return (progress.Losses, SafetensorsFile.Load(path), Directory.Exists(grids) ? Directory.GetFiles(grids).Length : 0);
        }
        var plain = Run(new ValidationOptions());
        var validated = Run(new ValidationOptions { Prompts = [$"a photo of a {token} dog"], Every = 1, ImagesPerPrompt = 2, Steps = 3 });
        Assert.Equal((4, 0, 4), (plain.Losses.Count, plain.Grids, validated.Grids));
        Assert.Equal(plain.Losses, validated.Losses);
        Assert.Equal(plain.Concept.Keys.Order(), validated.Concept.Keys.Order());
        foreach (var (key, value) in plain.Concept)
            Assert.True((value - validated.Concept[key]).abs().max().item<float>() == 0f, $"{method}: {key} differs after validation");
    }

    [Fact]
    public void A_resumed_run_keeps_the_validation_grids_that_exist_and_ends_as_the_uninterrupted_run()
    {
        string[] Args(string outDir, int steps) =>
            ["train", "--method", "custom-diffusion", "--model", SmallModel.Value, "--images", DogPhotos.Value, "--token", "<sks-dog>",
             "--class", "dog", "--steps", steps.ToString(), "--save-every", "2", "--out", outDir, "--seed", "2", "--lr", "1e-2"];
        string[] validation = ["--validation-prompt", "a <sks-dog> dog on the beach", "--validation-every", "1", "--validation-steps", "2", "--validation-images", "1"];
        string straight = TestPaths.NewTempDirectory();
        CliRunner.RunOk(Args(straight, 4));

        string interrupted = TestPaths.NewTempDirectory();
        CliRunner.RunOk([.. Args(interrupted, 3), .. validation]); // "killed" after step 3: checkpoint-2 is the last resumable state
        string folder = Path.Combine(interrupted, ValidationOptions.FolderName);
        Assert.Equal(["step-1.png", "step-2.png", "step-3.png"], Directory.EnumerateFiles(folder).Select(Path.GetFileName).Order());
        byte[] marker = "grid of the first run"u8.ToArray();
        File.WriteAllBytes(Path.Combine(folder, "step-3.png"), marker);
        CliRunner.RunOk([.. Args(interrupted, 4), .. validation, "--resume"]);
        Assert.Equal(marker, File.ReadAllBytes(Path.Combine(folder, "step-3.png")));
        Assert.True(File.Exists(Path.Combine(folder, "step-4.png")), "the resumed run did not validate step 4");

        var expected = SafetensorsFile.Load(Path.Combine(straight, "concept.safetensors"));
        var actual = SafetensorsFile.Load(Path.Combine(interrupted, "concept.safetensors"));
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, value) in expected) Assert.Equal(0f, (value - actual[key]).abs().max().item<float>());
    }

    /// <summary>Records each step's loss (the CLI's kind of progress sink: stage updates plus training records).</summary>
    private sealed class LossRecorder : IProgress<ProgressUpdate>, IProgress<TrainingProgress>
    {
        public List<double> Losses { get; } = [];
        public void Report(ProgressUpdate value) { }
        public void Report(TrainingProgress value) { if (!double.IsNaN(value.Loss)) Losses.Add(value.Loss); }
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
