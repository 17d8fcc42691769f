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
        var model = SharedOptions.Model();
        var concept = SharedOptions.Concept();
        var prompt = new Option<string>("--prompt") { Description = "Prompt template with one slot '{}' (\"a {} in the snow\"); {} takes \"placeholder class\" or the class.", Required = true };
        var placeholder = new Option<string>("--placeholder") { Description = "The concept's placeholder token (sks, <V*>, ...).", Required = true };
        var classWord = new Option<string>("--class") { Description = "The superclass word (dog, stuffed animal, ...).", Required = true };
        var strategies = new Option<string[]>("--strategy")
        {
            Description = "Strategy spec, repeatable: " + string.Join(", ", StrategyRegistry.All.Select(d => d.Name)) + " (e.g. mixed:wc=3.5,ws=3.5).",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var steps = SharedOptions.Steps();
        var scheduler = SharedOptions.Scheduler();
        var karras = SharedOptions.Karras();
        var seed = new Option<long>("--seed") { Description = "Seed; x_T uses Σ ord(template) + seed, as the reference.", DefaultValueFactory = _ => 0 };
        var count = SharedOptions.ImageCount("Images per strategy.");
        var height = SharedOptions.Height();
        var width = SharedOptions.Width();
        var output = SharedOptions.Output("Output folder.");
        var initLatents = SharedOptions.InitLatents();
        var latentsOut = new Option<string?>("--latents-out") { Description = "Final latents: tensor 'latents' for one strategy, else one tensor per strategy spec.", HelpName = "FILE" };
        var refineNoise = new Option<string?>("--refine-noise") { Description = "ProFusion noise stream: tensor 'noise' [fusion steps, steps, N, C, h, w].", HelpName = "FILE" };
        var saveMasks = new Option<bool>("--save-masks") { Description = "Masked sampling: save each step's mask as PNG." };
        var noDecode = SharedOptions.NoDecode();
        var batchSize = SharedOptions.BatchSize();
        var command = new Command("sample", "Sample a personalized concept with one or more strategies from the same initial noise.")
        {
            model, concept, prompt, placeholder, classWord, strategies, steps, scheduler, karras, seed, count, height, width, output,
            initLatents, latentsOut, refineNoise, saveMasks, noDecode, batchSize,
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
            int? requestedBatch = SharedOptions.BatchSize(parseResult, batchSize);
            var compute = GlobalOptions.Compute(parseResult);
            var outputs = new SamplingOutputs
            {
                Directory = parseResult.GetValue(output)!,
                Decode = !parseResult.GetValue(noDecode),
                SaveMasks = parseResult.GetValue(saveMasks),
                LatentsFile = parseResult.GetValue(latentsOut),
                ConceptSource = parseResult.GetValue(concept),
            };
            IReadOnlyList<StrategyCost> costs = [];
            ProgressDisplay.Run(console, progress =>
            {
                using var sd = ModelLoading.Load(parseResult.GetValue(model)!, parseResult.GetValue(concept), compute, progress);
                SharedOptions.WarnAboutScheduler(console, sd, parseResult.GetValue(scheduler) ?? "ddim");
                using var sampler = new PersonalizedSampler(sd);
                var shape = sampler.LatentShape(request);
                using var init = parseResult.GetValue(initLatents) is { } file ? LatentNoise.Read(sd, file, shape) : null;
                var inputs = new Dictionary<string, Tensor>();
                try
                {
                    if (parseResult.GetValue(refineNoise) is { } noiseFile)
                        inputs[ProFusionStrategy.NoiseInput] = ReadNoise(noiseFile, sd);
                    int batch = requestedBatch ?? TextToImage.DefaultBatchSize(sd, request.Height ?? sd.DefaultImageSize, request.Width ?? sd.DefaultImageSize);
                    costs = PersonalizedSampling.Write(sampler, parsed, request, outputs with { ModelSource = sd.Source }, batch, init, inputs, progress);
                }
                finally
                {
                    foreach (var tensor in inputs.Values) tensor.Dispose();
                }
            });
            var table = new Table().AddColumns("strategy", "UNet rows / image", "× Base");
            foreach (var (spec, rows, ratio) in costs)
                table.AddRow(Markup.Escape(spec), rows.ToString("0.##", CultureInfo.InvariantCulture), ratio.ToString("0.00", CultureInfo.InvariantCulture));
            console.Write(table);
            if (outputs.Decode) console.WriteLine($"wrote images and grid.png to {outputs.Directory}");
            return CliApp.Success;
        });
        return command;
    }

    private static Tensor ReadNoise(string path, StableDiffusionModel model)
    {
        using var file = SafetensorsFile.Open(path);
        if (!file.ByName.ContainsKey("noise"))
            throw new InvalidInputException($"{path}: no tensor named 'noise' (found: {string.Join(", ", file.Entries.Select(e => e.Name))})");
        return file.Read("noise", model.Compute.DType, model.Compute.Device);
    }
}
