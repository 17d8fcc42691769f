using System.Diagnostics;
using System.Globalization;
using PersonGen.Diffusion;
using PersonGen.Diffusion.Schedulers;
using PersonGen.Models.Attention;
using PersonGen.Models.Clip;
using PersonGen.Models.Unet;
using PersonGen.Runtime;
using PersonGen.Sampling;
using static TorchSharp.torch;

namespace PersonGen.Bench;

/// <summary>
/// Sampling-loop overhead and per-strategy cost on random-weight UNets. <c>loop</c>: wall time of a whole run over the
/// sum of its UNet forward times, and resident memory after step 5 vs the last step. <c>strategies</c>: UNet rows per
/// image and wall time relative to Base for every strategy, and peak extra memory per strategy.
/// </summary>
public static class SamplingBenchmark
{
    /// <summary>A scaled-down SD 2 UNet (4 blocks, linear projections, cross-attention 1024 → 256) that runs in seconds.</summary>
    private static UnetConfig MidSize => UnetConfig.Sd2Base with
    {
        BlockOutChannels = [32, 64, 64, 64],
        AttentionHeadDim = [2, 4, 4, 4],
        NormNumGroups = 16,
        CrossAttentionDim = [128],
        SampleSize = 32,
    };

    private static ClipTextConfig Text(int hidden) => ClipTextConfig.Sd2Base with
    {
        HiddenSize = hidden,
        IntermediateSize = hidden * 2,
        NumHiddenLayers = 1,
        NumAttentionHeads = 4,
    };

    public static int RunLoop(string[] args)
    {
        int steps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50;
        set_num_threads(Math.Max(1, Environment.ProcessorCount));
        using var model = Build(MidSize, 128);
        var timed = new TimedDenoiser(model.AsDenoiser());
        using var loop = new DenoisingLoop(timed, model.AsConditioner());
        var prompts = new Dictionary<string, string> { ["prompt"] = "a photo of a dog", ["negative"] = "" };
        long[] shape = [2, 4, 32, 32];
        long rssAt5 = 0, rssLast = 0;
        var progress = new SyncProgress(p =>
        {
            if (p.Completed == 5) rssAt5 = CurrentRss();
            if (p.Completed == p.Total) rssLast = CurrentRss();
        });
        // Warm-up run (allocator caches, first-call costs), then the measured run.
        Measure(loop, model.Scheduler, steps, prompts, shape, null);
        timed.Reset();
        var clock = Stopwatch.StartNew();
        Measure(loop, model.Scheduler, steps, prompts, shape, progress);
        clock.Stop();
        Console.WriteLine($"mid-size UNet ({MidSize.BlockOutChannels.Count} blocks {string.Join('/', MidSize.BlockOutChannels)}), 2 images 32x32 latents, {steps} DDIM steps, CFG");
        Console.WriteLine($"run wall time        {clock.Elapsed.TotalSeconds:0.000} s");
        Console.WriteLine($"sum of UNet forwards {timed.Elapsed.TotalSeconds:0.000} s over {timed.Calls} calls");
        Console.WriteLine($"loop overhead ratio  {clock.Elapsed.TotalSeconds / timed.Elapsed.TotalSeconds:0.000} (goal <= 1.05)");
        Console.WriteLine($"RSS after step 5 {rssAt5 / 1048576.0:0.0} MiB, after step {steps} {rssLast / 1048576.0:0.0} MiB, ratio {(double)rssLast / rssAt5:0.000} (goal within 5%)");
        return 0;
    }

    private static void Measure(DenoisingLoop loop, ISchedulerConfig scheduler, int steps, Dictionary<string, string> prompts, long[] shape, IProgress<ProgressUpdate>? progress)
    {
        using var run = new DenoisingRun(prompts, (int)shape[0], shape, 0);
        using var noise = NoiseSource.Randn(shape, 0);
        using var latents = loop.Run(new ClassifierFreeGuidance(7.5), scheduler, steps, run, noise, progress);
    }

    public static int RunStrategies(string[] args)
    {
        bool sd2 = args.Contains("--sd2");
        int steps = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : 20;
        set_num_threads(Math.Max(1, Environment.ProcessorCount));
        var config = sd2 ? UnetConfig.Sd2Base with { SampleSize = 32, CrossAttentionDim = [1024] } : MidSize;
        using var model = Build(config, sd2 ? 1024 : 128);
        using var sampler = new PersonalizedSampler(model);
        var request = new SamplingRequest { Prompt = ConceptPrompt.Parse("a {} in the snow", "sks", "dog"), Steps = steps, ImageCount = 2, Height = 32, Width = 32 };
        string[] specs =
        [
            "base:w=7", "superclass:w=7", "mixed:wc=3.5,ws=3.5", $"switching:w=7,tsw={steps / 5}", $"multistage:wc=4,ws=3,tsw={steps / 5}",
            $"masked:tsw={Math.Max(1, steps * 3 / 50)},wc0=0,ws0=7,wc=3.5,ws=3.5,q=0.7", "profusion:wc=3.5,ws=3.5,r=1,gr=7",
            $"photoswap:w=7,wref=7,sf={steps / 10},cm={steps * 3 / 10},sm={steps * 4 / 10}",
            $"photoswap:w=7,wref=7,sf={steps / 5},cm={steps * 2 / 5},sm={steps / 2}",
        ];
        Console.WriteLine($"{(sd2 ? "SD 2 base UNet (865M params, random)" : "mid-size UNet (random)")}, 2 images, 32x32 latents (256x256 px), {steps} DDIM steps");
        Console.WriteLine($"{"strategy",-58} {"rows/img",9} {"rows×Base",9} {"time×Base",9} {"peak+MiB",9}");
        using (var warm = sampler.Sample(StrategyRegistry.Parse("base:w=7"), request with { Steps = 2 }, decode: false)) { }
        double baseRows = 0, baseTime = 0;
        string? only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
        foreach (string spec in specs.Where(s => only is null || s == specs[0] || s.Contains(only, StringComparison.Ordinal)))
        {
            // The fastest of three runs: the time least disturbed by anything else on the machine.
            double seconds = double.MaxValue, rows = 0;
            long extra = 0;
            for (int repeat = 0; repeat < 3; repeat++)
            {
                GC.Collect();
                long before = CurrentRss();
                using var peak = new PeakRss();
                var clock = Stopwatch.StartNew();
                using var result = sampler.Sample(StrategyRegistry.Parse(spec), request, decode: false);
                clock.Stop();
                extra = Math.Max(extra, peak.Stop() - before);
                seconds = Math.Min(seconds, clock.Elapsed.TotalSeconds);
                rows = result.RowsPerImage;
            }
            if (spec == specs[0]) (baseRows, baseTime) = (rows, seconds);
            Console.WriteLine($"{spec,-58} {rows,9:0.0} {rows / baseRows,9:0.00} {seconds / baseTime,9:0.00} {extra / 1048576.0,9:0}");
        }
        return 0;
    }

    private static StableDiffusionModel Build(UnetConfig unetConfig, int textHidden)
    {
        manual_seed(0);
        var tokenizer = ClipTokenizer.FromBpeFile(SharedData("clip", "bpe_simple_vocab_16e6.txt.gz"), "!");
        var text = new ClipTextModel(Text(textHidden));
        var unet = new UNet2DConditionModel(unetConfig);
        return StableDiffusionModel.FromComponents(tokenizer, text, unet, null, DdimConfig.Sd2Base, ComputeOptions.Cpu);
    }

    private static string SharedData(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine([dir.FullName, "shared", "data", .. parts]);
            if (File.Exists(candidate)) return candidate;
            candidate = Path.Combine([dir.FullName, "..", "shared", "data", .. parts]);
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        throw new FileNotFoundException("shared/data not found above " + AppContext.BaseDirectory);
    }

    internal static long CurrentRss()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    private sealed class SyncProgress(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }

    /// <summary>Polls resident memory every few milliseconds on a background thread and keeps the maximum.</summary>
    internal sealed class PeakRss : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _running = true;
        private long _peak;

        public PeakRss()
        {
            _thread = new Thread(() =>
            {
                while (_running)
                {
                    _peak = Math.Max(_peak, CurrentRss());
                    Thread.Sleep(5);
                }
            })
            { IsBackground = true };
            _thread.Start();
        }

        public long Stop()
        {
            _running = false;
            _thread.Join();
            return _peak;
        }

        public void Dispose() => _running = false;
    }

    /// <summary>Times every UNet forward the loop makes.</summary>
    private sealed class TimedDenoiser(IDenoiser inner) : IDenoiser
    {
        private readonly Stopwatch _clock = new();

        public TimeSpan Elapsed => _clock.Elapsed;

        public int Calls { get; private set; }

        public void Reset()
        {
            _clock.Reset();
            Calls = 0;
        }

        public Tensor Predict(Tensor sample, double timestep, Tensor encoderHiddenStates, IAttentionHook? hook)
        {
            _clock.Start();
            var output = inner.Predict(sample, timestep, encoderHiddenStates, hook);
            _clock.Stop();
            Calls++;
            return output;
        }

        public void UseWeights(ModelWeights weights) => inner.UseWeights(weights);
    }
}
