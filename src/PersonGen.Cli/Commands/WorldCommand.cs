using System.CommandLine;
using System.Globalization;
using PersonGen.IO;
using PersonGen.Models.Clip;
using PersonGen.World;
using TorchSharp;

namespace PersonGen.Cli.Commands;

/// <summary>
/// <c>persongen world pretrain --out DIR [--steps N] [--batch-size 64] [--seed 0] [--resume]</c>: trains the built-in
/// world's base model from scratch and writes it in the diffusers folder layout.
/// <c>persongen world evaluate --model DIR [--images-per-prompt 8] [--seed 0] [--guidance 7] [--steps 25]</c>: measures its
/// prompt accuracy (background, shape, colour) over the world's held-out caption combinations.
/// </summary>
public static class WorldCommand
{
    public static Command Create() => new("world", "The built-in synthetic shapes world.") { CreatePretrain(), CreateEvaluate() };

    private static Command CreatePretrain()
    {
        var defaults = new WorldPretrainingOptions();
        var output = new Option<string>("--out") { Description = "Model folder to write (checkpoints go inside it).", HelpName = "DIR", Required = true };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps.", DefaultValueFactory = _ => defaults.Steps };
        var batchSize = new Option<int>("--batch-size") { Description = "Samples per step.", DefaultValueFactory = _ => defaults.BatchSize };
        var seed = new Option<int>("--seed") { Description = "Seed of the initial weights, the data stream and the noise.", DefaultValueFactory = _ => defaults.Seed };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between resumable checkpoints (0: only at the end).", DefaultValueFactory = _ => defaults.CheckpointEvery };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for libtorch (default: libtorch's choice)." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in --out." };
        var command = new Command("pretrain", "Train the world's base model (UNet + CLIP text encoder) from scratch on CPU.")
        {
            output, steps, batchSize, seed, checkpointEvery, threads, resume,
        };
        command.SetAction((parseResult, cancellation) =>
        {
            var writer = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(threads) is { } count)
            {
                if (count < 1) throw new InvalidInputException($"--threads {count} must be at least 1");
                torch.set_num_threads(count);
            }
            var options = new WorldPretrainingOptions
            {
                Steps = parseResult.GetValue(steps),
                BatchSize = parseResult.GetValue(batchSize),
                Seed = parseResult.GetValue(seed),
                CheckpointEvery = parseResult.GetValue(checkpointEvery),
            };
            string folder = parseResult.GetValue(output)!;
            using var training = new WorldPretraining(folder, options, parseResult.GetValue(resume));
            if (training.Step > 0) writer.WriteLine($"resuming at step {training.Step} of {options.Steps}");
            var progress = new SynchronousProgress<WorldPretrainingProgress>(p =>
            {
                bool skipped = !double.IsFinite(p.Loss);
                if (p.Checkpoint is null && p.Step % 10 != 0 && !skipped) return;
                string saved = p.Checkpoint is null ? "" : $"  saved {p.Checkpoint}";
                string loss = skipped ? "not finite (step skipped)" : p.Loss.ToString("F4", CultureInfo.InvariantCulture);
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"step {p.Step}/{p.Steps}  loss {loss}  {p.StepsPerSecond:F2} steps/s{saved}"));
            });
            string model = training.Train(progress, cancellation);
            writer.WriteLine($"wrote {model}");
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    private static Command CreateEvaluate()
    {
        var model = new Option<string>("--model") { Description = "A world model folder (from world pretrain).", HelpName = "DIR", Required = true };
        var images = new Option<int>("--images-per-prompt") { Description = "Images generated per held-out prompt.", DefaultValueFactory = _ => 8 };
        var seed = new Option<int>("--seed") { Description = "Seed of the first prompt's noise (prompt i uses seed + i).", DefaultValueFactory = _ => 0 };
        var guidance = new Option<double>("--guidance") { Description = "Classifier-free guidance scale ω.", DefaultValueFactory = _ => 7.0 };
        var steps = new Option<int>("--steps") { Description = "DDIM steps.", DefaultValueFactory = _ => 25 };
        var command = new Command("evaluate", "Measure a world model's prompt accuracy over held-out caption combinations.")
        {
            model, images, seed, guidance, steps,
        };
        command.SetAction(parseResult =>
        {
            var writer = parseResult.InvocationConfiguration.Output;
            string folder = parseResult.GetValue(model)!;
            RequireWorldTokenizer(folder);
            var world = new ShapesWorld();
            using var sampler = new WorldSampler(folder);
            var report = WorldAccuracy.Measure(sampler, world, parseResult.GetValue(images), parseResult.GetValue(seed),
                parseResult.GetValue(guidance), parseResult.GetValue(steps));
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{folder}: {report.Rows.Count} images over {world.HeldOut.Count} held-out prompts"));
            writer.WriteLine("| group | images | background | shape | colour |");
            writer.WriteLine("|---|---|---|---|---|");
            void Row(string name, (double Background, double Shape, double Color, int Images) a) =>
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {a.Images} | {a.Background:P0} | {a.Shape:P0} | {a.Color:P0} |"));
            Row("all", (report.Background, report.Shape, report.Color, report.Rows.Count));
            foreach (var (shape, a) in report.By(h => h.Shape).OrderBy(kv => kv.Key)) Row(ShapesPalette.Word(shape), a);
            foreach (var (background, a) in report.By(h => h.Background).OrderBy(kv => kv.Key)) Row("on " + ShapesPalette.Word(background), a);
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>Refuses, before minutes of sampling, a model whose tokenizer does not make every world word one token.</summary>
    private static void RequireWorldTokenizer(string folder)
    {
        var tokenizer = ClipTokenizer.FromFolder(ModelFolder.Open(folder).ComponentDirectory("tokenizer"));
        if (WorldTokenizer.Words.FirstOrDefault(word => tokenizer.SingleTokenId(word) is null) is { } missing)
            throw new InvalidInputException($"{folder} is not a built-in world model: its tokenizer has no single token for the world word '{missing}'; " +
                "world evaluate needs the world tokenizer: pass a folder written by 'persongen world pretrain'");
    }

    /// <summary>Reports on the caller's thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
