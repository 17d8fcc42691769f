using System.Globalization;
using PersonGen.Diffusion;
using PersonGen.IO;
using PersonGen.Runtime;
using PersonGen.TestSupport;
using PersonGen.Training;
using static TorchSharp.torch;

namespace PersonGen.Bench;

/// <summary>
/// Concept fine-tuning cost per method on one mid-size random model (TinyModelFolder with wider channels): steps/s and peak extra resident memory as ratios to DreamBooth-qkv, trainable values vs the
/// model's, and what caching the VAE latents saves per step.
/// </summary>
public static class TrainingBenchmark
{
    private static readonly string[] MethodOrder = ["dreambooth", "svdiff", "lora", "custom-diffusion", "textual-inversion", "full"];

    public static int Run(string[] args)
    {
        int steps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
        set_num_threads(Math.Max(1, Environment.ProcessorCount));
        string root = Path.Combine(Path.GetTempPath(), "persongen-bench-training-" + Guid.NewGuid().ToString("N"));
        var options = new TinyModelOptions { SampleSize = 16, UnetChannels = [32, 64, 64], VaeChannels = [16, 32, 32, 32], NormGroups = 8, TextHiddenSize = 64 };
        string modelDir = TinyModelFolder.Create(Path.Combine(root, "model"), seed: 0, options);
        string images = WriteImages(Path.Combine(root, "images"), count: 4, size: 128);
        Console.WriteLine($"mid-size model: UNet channels {string.Join('/', options.UnetChannels)}, text hidden {options.TextHiddenSize}, tokenizer vocabulary {options.VocabSize}, 128x128 images (16x16 latents), batch 1, {steps} steps per method");
        Console.WriteLine($"{"method",-18} {"steps/s",8} {"speed×DB",9} {"peak+MiB",9} {"mem×DB",7} {"trainable",11} {"of model",10}");
        ConceptTrainingRequest Request(string method, int count, string outDir) => new()
        {
            Method = method,
            ImageFolder = images,
            Token = method is "custom-diffusion" or "textual-inversion" ? "<sks-dog>" : "sks",
            ClassWord = "dog",
            OutDir = outDir,
            Steps = count,
            Seed = 1,
        };
        // The first training in a process pays JIT and allocator warm-up: keep it out of the reference method's figure.
        using (var warmUp = StableDiffusionModel.Load(modelDir, ComputeOptions.Cpu))
            ConceptTraining.Train(warmUp, Request("dreambooth", 5, Path.Combine(root, "warm-up")));
        var rows = new Dictionary<string, (double StepsPerSecond, double PeakMiB)>();
        foreach (string method in MethodOrder)
        {
            using var model = StableDiffusionModel.Load(modelDir, ComputeOptions.Cpu);
            long modelValues = model.Unet.parameters().Sum(p => p.numel()) + model.TextEncoder.parameters().Sum(p => p.numel());
            var request = Request(method, steps, Path.Combine(root, method));
            GC.Collect();
            long before = SamplingBenchmark.CurrentRss();
            var speed = new LastSpeed();
            using (var peak = new SamplingBenchmark.PeakRss())
            {
                ConceptTraining.Train(model, request, speed);
                double peakMiB = (peak.Stop() - before) / 1048576.0;
                rows[method] = (speed.StepsPerSecond, peakMiB);
            }
            long trainable = ((ConceptDelta)model.Concept!).TrainableParameterCount;
            var (sps, mem) = rows[method];
            var (dbSps, dbMem) = rows["dreambooth"];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{method,-18} {sps,8:0.00} {sps / dbSps,9:0.00} {mem,9:0} {mem / dbMem,7:0.00} {trainable,11:N0} {100.0 * trainable / modelValues,9:0.000}%"));
        }
        ReportLatentCache(modelDir, images, rows["dreambooth"].StepsPerSecond);
        Directory.Delete(root, recursive: true);
        return 0;
    }

    /// <summary>VAE encoding time per image vs a training step: the per-step cost the latent cache removes.</summary>
    private static void ReportLatentCache(string modelDir, string images, double stepsPerSecond)
    {
        using var model = StableDiffusionModel.Load(modelDir, ComputeOptions.Cpu);
        using var warmup = ConceptDataset.Load(model, images);
        using var dataset = ConceptDataset.Load(model, images);
        double encodeMs = 1000 * dataset.EncodeSeconds / dataset.Encodings;
        double stepMs = 1000 / stepsPerSecond;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"latent cache: one VAE encode {encodeMs:0.0} ms vs one DreamBooth step {stepMs:0.0} ms: encoding every draw would add {100 * encodeMs / stepMs:0}% per step"));
    }

    private static string WriteImages(string dir, int count, int size)
    {
        Directory.CreateDirectory(dir);
        using var generator = new Generator(3);
        for (int i = 0; i < count; i++)
        {
            using var pixels = rand([1, 3, size, size], generator: generator) * 2 - 1;
            var bitmaps = ImageIO.FromTensor(pixels);
            ImageIO.SavePng(bitmaps[0], Path.Combine(dir, $"{i:00}.png"));
            foreach (var bitmap in bitmaps) bitmap.Dispose();
        }
        return dir;
    }

    /// <summary>Steps/s from the end of step 1 to the last step (first-call and warm-up costs excluded).</summary>
    private sealed class LastSpeed : IProgress<ProgressUpdate>, IProgress<TrainingProgress>
    {
        private readonly System.Diagnostics.Stopwatch _clock = new();
        private long _firstStep = -1;

        public double StepsPerSecond { get; private set; }

        public void Report(ProgressUpdate value) { }

        public void Report(TrainingProgress value)
        {
            if (value.Step < 1) return;
            if (_firstStep < 0)
            {
                _firstStep = value.Step;
                _clock.Start();
                return;
            }
            StepsPerSecond = (value.Step - _firstStep) / _clock.Elapsed.TotalSeconds;
        }
    }
}
