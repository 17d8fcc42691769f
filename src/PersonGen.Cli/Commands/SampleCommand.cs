using System.CommandLine;
using System.Globalization;
using PersonGen.Diffusion;
using PersonGen.Evaluation.Studies;
using PersonGen.IO;
using PersonGen.Sampling;
using PersonGen.Sampling.Strategies;
using SkiaSharp;
using Spectre.Console;
using static TorchSharp.torch;

namespace PersonGen.Cli.Commands;

/// <summary>
/// <c>persongen sample</c>: runs one or more sampling strategies on a concept prompt from the same x_T and writes each
/// strategy's images, a side-by-side grid and each strategy's cost (UNet rows per image, relative to Base).
/// </summary>
public static class SampleCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Base model folder (diffusers layout) or a cached Hugging Face id.", Required = true };
        var concept = new Option<string?>("--concept") { Description = "Concept checkpoint (persongen train output, or a reference SVDiff checkpoint folder with unet.bin/text_encoder.bin)." };
        var prompt = new Option<string>("--prompt") { Description = "Prompt template with one slot '{}' (\"a {} in the snow\"); {} takes \"placeholder class\" or the class.", Required = true };
        var placeholder = new Option<string>("--placeholder") { Description = "The concept's placeholder token (sks, <V*>, ...).", Required = true };
        var classWord = new Option<string>("--class") { Description = "The superclass word (dog, stuffed animal, ...).", Required = true };
        var strategies = new Option<string[]>("--strategy")
        {
            Description = "Strategy spec, repeatable: " + string.Join(", ", StrategyRegistry.All.Select(d => d.Name)) + " (e.g. mixed:wc=3.5,ws=3.5).",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var steps = new Option<int>("--steps") { Description = "Sampling steps.", DefaultValueFactory = _ => 50 };
        var scheduler = SharedOptions.Scheduler();
        var karras = SharedOptions.Karras();
        var seed = new Option<long>("--seed") { Description = "Seed; x_T uses Σ ord(template) + seed, as the reference.", DefaultValueFactory = _ => 0 };
        var count = new Option<int>("-n", "--num-images") { Description = "Images per strategy.", DefaultValueFactory = _ => 1 };
        var height = new Option<int?>("--height") { Description = "Image height (default: the model's native size)." };
        var width = new Option<int?>("--width") { Description = "Image width (default: the model's native size)." };
        var output = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "out" };
        var initLatents = new Option<string?>("--init-latents") { Description = "Safetensors file whose tensor 'latents' (N,C,h,w) is the unscaled draw; x_T = latents × the scheduler's init sigma.", HelpName = "FILE" };
        var latentsOut = new Option<string?>("--latents-out") { Description = "Final latents: tensor 'latents' for one strategy, else one tensor per strategy spec.", HelpName = "FILE" };
        var refineNoise = new Option<string?>("--refine-noise") { Description = "ProFusion noise stream: tensor 'noise' [fusion steps, steps, N, C, h, w].", HelpName = "FILE" };
        var saveMasks = new Option<bool>("--save-masks") { Description = "Masked sampling: save each step's mask as PNG." };
        var noDecode = new Option<bool>("--no-decode") { Description = "Skip decoding and PNG output (latents only)." };
        var command = new Command("sample", "Sample a personalized concept with one or more strategies from the same initial noise.")
        {
            model, concept, prompt, placeholder, classWord, strategies, steps, scheduler, karras, seed, count, height, width, output,
            initLatents, latentsOut, refineNoise, saveMasks, noDecode,
        };
        command.SetAction(parseResult =>
        {
            var console = ConsoleFactory.ForOutput(parseResult);
            var parsed = parseResult.GetValue(strategies)!.Select(StrategyRegistry.Parse).ToList();
            var request = new SamplingRequest
            {
                Prompt = ConceptPrompt.Parse(parseResult.GetValue(prompt)!, parseResult.GetValue(placeholder)!, parseResult.GetValue(classWord)!),
                Steps = parseResult.GetValue(steps),
                Seed = parseResult.GetValue(seed),
                ImageCount = parseResult.GetValue(count),
                Height = parseResult.GetValue(height),
                Width = parseResult.GetValue(width),
                Scheduler = SharedOptions.Choice(parseResult, scheduler, karras),
            };
            foreach (var strategy in parsed) strategy.Validate(request.Steps);
            if (parseResult.GetValue(concept) is { } conceptPath && ModelLoading.TrainedToken(conceptPath) is { } trained
                && trained != request.Prompt.Placeholder)
                parseResult.InvocationConfiguration.Error.WriteLine(
                    $"warning: --placeholder '{request.Prompt.Placeholder}' is not the token the concept was trained with ('{trained}'): the concept rows will not show it; pass --placeholder {trained}");
            string outDir = parseResult.GetValue(output)!;
            bool decode = !parseResult.GetValue(noDecode);
            var compute = GlobalOptions.Compute(parseResult);
            var costs = new List<(string Spec, double Rows, double Ratio)>();
            ProgressDisplay.Run(console, progress =>
            {
                using var sd = ModelLoading.Load(parseResult.GetValue(model)!, parseResult.GetValue(concept), compute, progress);
                SharedOptions.WarnAboutScheduler(console, sd, parseResult.GetValue(scheduler) ?? "ddim");
                using var sampler = new PersonalizedSampler(sd);
                var shape = sampler.LatentShape(request);
                using var init = parseResult.GetValue(initLatents) is { } file ? LatentNoise.Read(sd, file, shape) : null;
                var inputs = new Dictionary<string, Tensor>();
                if (parseResult.GetValue(refineNoise) is { } noiseFile)
                    inputs[ProFusionStrategy.NoiseInput] = ReadNoise(noiseFile, sd);
                var latents = new List<KeyValuePair<string, Tensor>>();
                var gridImages = new List<SKBitmap>();
                var captions = new List<string>();
                try
                {
                    foreach (var strategy in parsed)
                    {
                        var result = sampler.Sample(strategy, request, init, inputs, decode, progress);
                        latents.Add(KeyValuePair.Create(parsed.Count == 1 ? "latents" : strategy.Spec, result.Latents));
                        costs.Add((strategy.Spec, result.RowsPerImage, result.CostRelativeToBase));
                        string directory = Path.Combine(outDir, StudyRunner.Slug(strategy.Spec));
                        if (result.Images is { } images)
                        {
                            var settings = new { command = "sample", model = sd.Source, concept = parseResult.GetValue(concept), strategy = strategy.Spec, request = Describe(request) };
                            var bitmaps = ImageOutput.SavePngs(images, directory, settings);
                            gridImages.AddRange(bitmaps);
                            captions.AddRange(bitmaps.Select((_, i) => i == 0 ? strategy.Spec : ""));
                        }
                        if (parseResult.GetValue(saveMasks) && result.Diagnostics.TryGetValue("mask", out var masks))
                            SaveMasks(masks, Path.Combine(directory, "masks"), request.Steps - masks.Count);
                        result.Images?.Dispose();
                        foreach (var list in result.Diagnostics.Values) foreach (var t in list) t.Dispose();
                    }
                    if (parseResult.GetValue(latentsOut) is { } latentsFile) ImageOutput.SaveLatents(latentsFile, latents);
                    if (gridImages.Count > 0)
                    {
                        using var grid = ImageGrid.Create(gridImages, request.ImageCount, captions);
                        ImageIO.SavePng(grid, Path.Combine(outDir, "grid.png"));
                    }
                }
                finally
                {
                    foreach (var kv in latents) kv.Value.Dispose();
                    foreach (var bitmap in gridImages) bitmap.Dispose();
                    foreach (var tensor in inputs.Values) tensor.Dispose();
                }
            });
            var table = new Table().AddColumns("strategy", "UNet rows / image", "× Base");
            foreach (var (spec, rows, ratio) in costs)
                table.AddRow(Markup.Escape(spec), rows.ToString("0.##", CultureInfo.InvariantCulture), ratio.ToString("0.00", CultureInfo.InvariantCulture));
            console.Write(table);
            if (decode) console.WriteLine($"wrote images and grid.png to {outDir}");
            return CliApp.Success;
        });
        return command;
    }

    private static object Describe(SamplingRequest request) => new
    {
        template = request.Prompt.Template,
        placeholder = request.Prompt.Placeholder,
        @class = request.Prompt.ClassWord,
        request.Steps,
        scheduler = request.Scheduler.ToString(),
        request.Seed,
        images = request.ImageCount,
        request.Height,
        request.Width,
    };

    private static Tensor ReadNoise(string path, StableDiffusionModel model)
    {
        using var file = SafetensorsFile.Open(path);
        if (!file.ByName.ContainsKey("noise"))
            throw new InvalidInputException($"{path}: no tensor named 'noise' (found: {string.Join(", ", file.Entries.Select(e => e.Name))})");
        return file.Read("noise", model.Compute.DType, model.Compute.Device);
    }

    private static void SaveMasks(IReadOnlyList<Tensor> masks, string directory, int firstStep)
    {
        OutputPath.CreateDirectory(directory);
        for (int k = 0; k < masks.Count; k++)
        {
            using var rgb = masks[k].to_type(ScalarType.Float32).expand(-1, 3, -1, -1);
            var bitmaps = ImageIO.FromTensor(rgb, PixelRange.ZeroToOne);
            for (int i = 0; i < bitmaps.Length; i++)
            {
                ImageIO.SavePng(bitmaps[i], Path.Combine(directory, $"step{firstStep + k:00}_{i}.png"));
                bitmaps[i].Dispose();
            }
        }
    }
}
