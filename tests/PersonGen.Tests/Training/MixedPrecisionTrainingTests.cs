using PersonGen.Diffusion;
using PersonGen.Runtime;
using PersonGen.Tests.Support;
using PersonGen.TestSupport;
using PersonGen.Training;
using static TorchSharp.torch;

namespace PersonGen.Tests.Training;

/// <summary>bf16 concept training: bf16 model, float32 master weights, gradients, optimizer state and checkpoints.</summary>
public sealed class MixedPrecisionTrainingTests
{
    private static readonly Lazy<string> SmallModel = new(() => TinyModelFolder.Create(TestPaths.NewTempDirectory(), seed: 3,
        new TinyModelOptions { SampleSize = 8, UnetChannels = [8, 16], VaeChannels = [8, 16], TextHiddenSize = 16, VocabSize = 1000 }));

    [Theory]
    [InlineData("svdiff")]
    [InlineData("dreambooth")]
    [InlineData("lora")]
    public void Training_a_bf16_model_keeps_float32_trainables_and_lowers_the_loss_on_a_fixed_batch(string method)
    {
        using var world = new ToyWorld(dtype: ScalarType.BFloat16);
        using var delta = ConceptDeltaTests.Create(method, world.Model);
        using var objective = new FixedBatchObjective(world, ConceptDeltaTests.Word(method));
        var losses = new List<double>();
        using (var trainer = new ConceptTrainer(delta, objective, new TrainingOptions { Steps = 60, MaxGradNorm = 1.0 }))
            trainer.Train(new SyncProgress(p => losses.Add(p.Loss)));
        Assert.All(delta.Trainables, kv => Assert.Equal(ScalarType.Float32, kv.Value.dtype));
        Assert.All(delta.Trainables, kv => Assert.Equal(ScalarType.Float32, kv.Value.grad?.dtype ?? ScalarType.Float32));
        Assert.All(world.Unet.parameters().Concat(world.TextEncoder.parameters()), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        Assert.True(losses.All(double.IsFinite), "a loss was not finite");
        // Measured: svdiff/lora/dreambooth end at 0.58–0.72 of the start. Textual Inversion in bf16 has its own test: one
        // token row barely moves this loss, so it recovers a planted row instead (ConceptDeltaTests).
        Assert.True(losses[^1] < 0.8 * losses[0], $"{method}: loss {losses[0]:G4} → {losses[^1]:G4}");
    }

    [Fact]
    public void A_concept_trained_in_bf16_is_saved_in_float32_and_loads_into_a_float32_model()
    {
        string outDir = TestPaths.NewTempDirectory();
        string images = TestPaths.NewTempDirectory();
        foreach (string name in new[] { "00.jpg", "01.jpg" })
            File.Copy(TestPaths.Data("dreambooth", "dataset", "dog", name), Path.Combine(images, name));
        var request = new ConceptTrainingRequest
        {
            Method = "svdiff",
            ImageFolder = images,
            Token = "sks",
            ClassWord = "dog",
            OutDir = outDir,
            Steps = 3,
            LearningRate = 1e-2,
        };
        string path;
        using (var model = StableDiffusionModel.Load(SmallModel.Value, new ComputeOptions(CPU, ScalarType.BFloat16)))
            path = ConceptTraining.Train(model, request);
        using var checkpoint = ConceptCheckpoint.Load(path);
        Assert.NotEmpty(checkpoint.Tensors);
        Assert.All(checkpoint.Tensors.Values, t => Assert.Equal(ScalarType.Float32, t.dtype));
        Assert.Contains(checkpoint.Tensors.Values, t => t.abs().max().item<float>() > 0);
        using var fp32 = StableDiffusionModel.Load(SmallModel.Value, ComputeOptions.Cpu);
        var conceptModel = new ConceptModel(fp32.Unet, fp32.TextEncoder, new TokenizerVocabulary(fp32.Tokenizer));
        using var delta = checkpoint.ApplyTo(conceptModel);
        Assert.All(fp32.Unet.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.Equal(checkpoint.Tensors.Count, delta.Trainables.Count);
    }

    [Fact]
    public void Training_an_fp16_model_is_a_clear_error_naming_bf16()
    {
        using var model = StableDiffusionModel.Load(SmallModel.Value, new ComputeOptions(CPU, ScalarType.Float16));
        var request = new ConceptTrainingRequest
        {
            Method = "lora",
            ImageFolder = TestPaths.NewTempDirectory(),
            Token = "sks",
            ClassWord = "dog",
            OutDir = TestPaths.NewTempDirectory(),
            Steps = 1,
        };
        var error = Assert.Throws<InvalidInputException>(() => ConceptTraining.Train(model, request));
        Assert.Contains("`dtype` bf16", error.Message);
    }
}
