using PersonGen.IO;
using PersonGen.Tests.Support;
using PersonGen.Training;
using PersonGen.Training.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Tests.Training;

public sealed class ConceptDeltaTests
{
    public static TheoryData<string> Methods => new() { "svdiff", "lora", "dreambooth", "full", "custom-diffusion", "textual-inversion" };

    /// <summary>Each method with a learning rate large enough for a toy model to move in a few steps.</summary>
    internal static ConceptDelta Create(string method, ConceptModel model) => method switch
    {
        "svdiff" => new SvdiffDelta(model, learningRate: 3e-2, normLearningRate: 1e-2),
        "lora" => new LoraDelta(model, rank: 2, learningRate: 2e-2, seed: 3),
        "dreambooth" => new DreamBoothDelta(model, learningRate: 1e-2),
        "full" => new DreamBoothDelta(model, DreamBoothScope.AllParameters, learningRate: 1e-2, method: "full"),
        "custom-diffusion" => new CustomDiffusionDelta(model, "<new>", "dog", trainQueryAndOut: true, learningRate: 1e-2),
        "textual-inversion" => new TextualInversionDelta(model, "<new>", "dog", learningRate: 5e-2),
        _ => throw new ArgumentException(method),
    };

    internal static string Word(string method) => method is "custom-diffusion" or "textual-inversion" ? "<new>" : "sks";

    private static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    private static double Train(ToyWorld world, ConceptDelta delta, string method, long steps, bool randomNoise = false)
    {
        using var objective = new FixedBatchObjective(world, Word(method), randomNoise);
        using var trainer = new ConceptTrainer(delta, objective, new TrainingOptions { Steps = steps, Seed = 5 });
        return trainer.Train();
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void A_fresh_delta_leaves_the_model_exactly_as_it_was(string method)
    {
        using var world = new ToyWorld();
        using var before = world.Output("sks", "dog");
        using var delta = Create(method, world.Model);
        delta.Apply();
        using var after = world.Output("sks", "dog");
        Assert.Equal(0.0, MaxDiff(before, after));
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Switching_off_restores_the_base_outputs_exactly_and_on_again_the_concept(string method)
    {
        using var world = new ToyWorld();
        string word = Word(method);
        using var delta = Create(method, world.Model);
        delta.Enabled = false;
        using var baseOutput = world.Output(word, "dog");
        delta.Enabled = true;
        Train(world, delta, method, 5);
        using var trained = world.Output(word, "dog");
        Assert.True(MaxDiff(trained, baseOutput) > 1e-5, "training changed nothing");
        delta.Enabled = false;
        using var off = world.Output(word, "dog");
        Assert.Equal(0.0, MaxDiff(off, baseOutput));
        delta.Enabled = true;
        using var on = world.Output(word, "dog");
        Assert.Equal(0.0, MaxDiff(on, trained));
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Saving_and_loading_a_checkpoint_reproduces_the_outputs_exactly(string method)
    {
        string dir = TestPaths.NewTempDirectory();
        string word = Word(method);
        Tensor trained;
        using (var world = new ToyWorld())
        {
            using var delta = Create(method, world.Model);
            Train(world, delta, method, 5);
            trained = world.Output(word, "dog");
            using var checkpoint = ConceptCheckpoint.FromDelta(delta, "toy", word, "dog", 5);
            checkpoint.Save(Path.Combine(dir, "concept.safetensors"));
        }
        using (trained)
        using (var fresh = new ToyWorld())
        using (var loaded = ConceptCheckpoint.Load(Path.Combine(dir, "concept.safetensors")))
        {
            Assert.Equal(method, loaded.Method);
            Assert.Equal("5", loaded.Metadata["step"]);
            using var delta = loaded.ApplyTo(fresh.Model);
            using var output = fresh.Output(word, "dog");
            Assert.Equal(0.0, MaxDiff(output, trained));
        }
    }

    /// <summary>The methods that train model weights (Textual Inversion, one embedding row, has its own overfit test).</summary>
    public static TheoryData<string> WeightMethods => new() { "svdiff", "lora", "dreambooth", "full", "custom-diffusion" };

    [Theory]
    [MemberData(nameof(WeightMethods))]
    public void Overfitting_a_fixed_batch_for_100_steps_lowers_the_loss_well_below_its_start(string method)
    {
        using var world = new ToyWorld();
        using var delta = Create(method, world.Model);
        using var objective = new FixedBatchObjective(world, Word(method));
        var losses = new List<double>();
        using var trainer = new ConceptTrainer(delta, objective, new TrainingOptions { Steps = 100, MaxGradNorm = 1.0 });
        trainer.Train(new SyncProgress(p => losses.Add(p.Loss)));
        Assert.Equal(100, losses.Count);
        // Measured on this toy: q/k/v-only methods end at 0.54–0.67 of the start, full training near 0.
        Assert.True(losses[^1] < 0.75 * losses[0], $"{method}: loss {losses[0]:G4} → {losses[^1]:G4}");
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)] // mixed precision: bf16 model, float32 row (issue 10 item 10: a 0.5% loss drop used to pass)
    public void Textual_inversion_recovers_a_planted_embedding_row_from_the_outputs_it_produces(ScalarType dtype)
    {
        // The denoising loss cannot be fitted by one token row (TI ends near its start on it), so the batch's target is
        // the model's own prediction with a planted row e*: the optimum has zero loss and depends on the row alone.
        using var world = new ToyWorld(dtype: dtype);
        using var delta = new TextualInversionDelta(world.Model, "<new>", "dog", learningRate: 5e-2);
        var row = delta.Trainables["<new>"];
        using var initial = row.detach().clone();
        using var noise = torch.randn(initial.shape, generator: new torch.Generator(17));
        using var plantedRow = initial + Centered(noise);
        Tensor target;
        using (var noGrad = torch.no_grad())
        {
            row.copy_(plantedRow);
            delta.Apply();
            target = PlantedRowObjective.Predict(world);
            row.copy_(initial);
            delta.Apply();
        }
        using (target)
        using (var trainer = new ConceptTrainer(delta, new PlantedRowObjective(world, target), new TrainingOptions { Steps = 100, MaxGradNorm = 1.0 }))
        {
            var losses = new List<double>();
            trainer.Train(new SyncProgress(p => losses.Add(p.Loss)));
            // Measured: loss 2.8e-3 → 2.6e-7, centered distance to e* 2.0 → 0.13.
            Assert.True(losses[0] > 1e-4, $"the planted row should change the outputs (start loss {losses[0]:G4})");
            Assert.True(losses[^1] < 0.01 * losses[0], $"loss {losses[0]:G4} → {losses[^1]:G4}");
        }
        // Adding a constant to every entry of the row changes no output (layer norms), so distances ignore the row's mean.
        using var before = Centered(initial - plantedRow);
        using var after = Centered(row.detach() - plantedRow);
        double start = before.norm().item<float>(), end = after.norm().item<float>();
        Assert.True(end < 0.25 * start, $"the row moved from {start:G4} to {end:G4} (centered distance to e*)");
    }

    private static Tensor Centered(Tensor row) => row - row.mean([-1], keepdim: true);

    [Fact]
    public void Textual_inversion_changes_only_the_placeholder_row()
    {
        using var world = new ToyWorld();
        using var original = world.TextEncoder.text_model.embeddings.token_embedding.weight!.detach().clone();
        using var delta = new TextualInversionDelta(world.Model, "<new>", "dog", learningRate: 5e-2);
        Train(world, delta, "textual-inversion", 10);
        var weight = world.TextEncoder.text_model.embeddings.token_embedding.weight!.detach();
        long row = delta.TokenIds.Single();
        Assert.Equal(original.shape[0], row);
        Assert.Equal(0.0, MaxDiff(weight[..(int)row], original));
        Assert.True(MaxDiff(weight[row], original[4]) > 1e-4, "the placeholder row did not move from its initializer 'dog'");
    }

    [Fact]
    public void A_placeholder_already_in_the_vocabulary_or_an_unknown_class_word_is_a_clear_error()
    {
        using var world = new ToyWorld();
        var existing = Assert.Throws<InvalidInputException>(() => new TextualInversionDelta(world.Model, "dog", "dog"));
        Assert.Contains("already in the vocabulary", existing.Message);
        var unknown = Assert.Throws<InvalidInputException>(() => new CustomDiffusionDelta(world.Model, "<x>", "cat"));
        Assert.Contains("'cat'", unknown.Message);
    }

    [Fact]
    public void A_checkpoint_for_another_architecture_is_a_clear_error()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "concept.safetensors");
        using (var world = new ToyWorld())
        using (var delta = new SvdiffDelta(world.Model))
        using (var checkpoint = ConceptCheckpoint.FromDelta(delta))
            checkpoint.Save(path);
        torch.manual_seed(1);
        using var other = new ConceptModel(new ToyUnet(channels: 16), new ToyTextEncoder(7), new ToyVocabulary(ToyWorld.Words)).Unet;
        using var loaded = ConceptCheckpoint.Load(path);
        var error = Assert.Throws<ModelLoadException>(() => loaded.ApplyTo(new ConceptModel(other, new ToyTextEncoder(7))));
        Assert.Contains("base model", error.Message);
    }

    [Fact]
    public void LoRA_keys_follow_the_peft_layout_and_B_starts_at_zero()
    {
        using var world = new ToyWorld();
        using var delta = new LoraDelta(world.Model, rank: 2);
        Assert.Contains("unet.mid_block.attn2.to_out.0.lora_A.weight", delta.Trainables.Keys);
        Assert.Contains("text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_B.weight", delta.Trainables.Keys);
        Assert.All(delta.Trainables.Where(kv => kv.Key.Contains("lora_B")), kv => Assert.Equal(0.0, kv.Value.abs().max().item<float>()));
    }

    [Fact]
    public void SVDiff_wraps_every_weighted_layer_and_puts_norm_scalars_in_the_1d_group()
    {
        using var world = new ToyWorld();
        using var delta = new SvdiffDelta(world.Model);
        // UNet: conv_in, conv_norm_out, norm2, to_q/k/v, to_out.0, conv_out; TE: 2 embeddings, layer_norm1, 4 projections, final norm.
        Assert.Equal(8 + 8, delta.Trainables.Count);
        var oneD = delta.Groups.Single(g => g.Name.EndsWith("1d"));
        Assert.Equal(4, oneD.Parameters.Count);
        Assert.All(oneD.Parameters, p => Assert.Equal(1, p.numel()));
        Assert.Equal(SvdiffDelta.DefaultNormLearningRate, oneD.LearningRate);
    }
}

/// <summary>MSE between the toy UNet's prediction for "a photo of &lt;new&gt; dog" on fixed latents and a fixed target.</summary>
public sealed class PlantedRowObjective(ToyWorld world, Tensor target) : ITrainingObjective
{
    public static Tensor Predict(ToyWorld world)
    {
        using var scope = torch.NewDisposeScope();
        using var ids = world.Ids("<new>", "<new>");
        return world.Unet.forward(world.Latents, world.TextEncoder.forward(ids)).MoveToOuterDisposeScope();
    }

    public Tensor Loss(long step, int microStep, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        // In float32, as the trainer's objectives compute every loss (a bf16 mean would round the small losses away).
        return (Predict(world).to_type(ScalarType.Float32) - target.to_type(ScalarType.Float32)).square().mean().MoveToOuterDisposeScope();
    }
}

/// <summary>An IProgress that runs its callback synchronously on the reporting thread.</summary>
public sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
