using System.CommandLine;
using PersonGen.Diffusion;
using PersonGen.IO;
using Spectre.Console;
using static TorchSharp.torch;

namespace PersonGen.Cli.Commands;

/// <summary><c>persongen generate</c>: text-to-image with classifier-free guidance (DDIM, Euler or DPM-Solver++ 2M), PNGs with their settings.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = SharedOptions.Model();
        var concept = SharedOptions.Concept();
        var prompt = new Option<string>("--prompt") { Description = "The prompt.", Required = true };
        var negative = new Option<string>("--negative-prompt") { Description = "Negative prompt (the unconditional branch).", DefaultValueFactory = _ => "" };
        var steps = SharedOptions.Steps();
        var guidance = new Option<double>("--guidance") { Description = "Classifier-free guidance scale.", DefaultValueFactory = _ => 7.5 };
        var scheduler = SharedOptions.Scheduler();
        var karras = SharedOptions.Karras();
        var seed = new Option<long>("--seed") { Description = "Seed of the initial noise (PyTorch CPU generator).", DefaultValueFactory = _ => 0 };
        var count = SharedOptions.ImageCount("Images to generate.");
        var height = SharedOptions.Height();
        var width = SharedOptions.Width();
        var output = SharedOptions.Output("Output folder for the PNGs.");
        var initLatents = SharedOptions.InitLatents();
        var latentsOut = new Option<string?>("--latents-out") { Description = "Write the final latents (tensor 'latents', float32, NCHW) to FILE.", HelpName = "FILE" };
        var noDecode = SharedOptions.NoDecode();
        var batchSize = SharedOptions.BatchSize();
        var command = new Command("generate", "Generate images from a prompt (classifier-free guidance; DDIM, Euler or DPM-Solver++ 2M).")
        {
            model, concept, prompt, negative, steps, guidance, scheduler, karras, seed, count, height, width, output, initLatents, latentsOut, noDecode, batchSize,
        };
        command.SetAction(parseResult =>
        {
            var console = ConsoleFactory.ForOutput(parseResult);
            var request = new GenerationRequest
            {
                Prompt = parseResult.GetValue(prompt)!,
                NegativePrompt = parseResult.GetValue(negative)!,
                Steps = parseResult.GetValue(steps),
                Guidance = parseResult.GetValue(guidance),
                Seed = parseResult.GetValue(seed),
                ImageCount = parseResult.GetValue(count),
                Height = parseResult.GetValue(height),
                Width = parseResult.GetValue(width),
                Scheduler = SharedOptions.Choice(parseResult, scheduler, karras),
            };
            request.Validate();
            int? requestedBatch = SharedOptions.BatchSize(parseResult, batchSize);
            string outDir = parseResult.GetValue(output)!;
            bool decode = !parseResult.GetValue(noDecode);
            var compute = GlobalOptions.Compute(parseResult);
            ProgressDisplay.Run(console, progress =>
            {
                using var sd = ModelLoading.Load(parseResult.GetValue(model)!, parseResult.GetValue(concept), compute, progress);
                SharedOptions.WarnAboutScheduler(console, sd, parseResult.GetValue(scheduler));
                int h = request.Height ?? sd.DefaultImageSize, w = request.Width ?? sd.DefaultImageSize;
                using var init = parseResult.GetValue(initLatents) is { } file
                    ? LatentNoise.Read(sd, file, LatentNoise.Shape(sd, request.ImageCount, h, w))
                    : null;
                var settings = new { command = "generate", model = sd.Source, request, concept = parseResult.GetValue(concept) };
                string? latentsFile = parseResult.GetValue(latentsOut);
                var latents = new List<Tensor>();
                try
                {
                    TextToImage.GenerateInBatches(sd, request, requestedBatch ?? TextToImage.DefaultBatchSize(sd, h, w), (first, result) =>
                    {
                        if (latentsFile is not null) latents.Add(result.Latents.detach().cpu().clone().DetachFromDisposeScope());
                        if (result.Images is { } images)
                            foreach (var bitmap in ImageOutput.SavePngs(images, outDir, settings, first)) bitmap.Dispose();
                    }, init, decode, progress);
                    if (latentsFile is not null)
                    {
                        using var all = cat(latents);
                        ImageOutput.SaveLatents(latentsFile, [KeyValuePair.Create("latents", all)]);
                    }
                }
                finally
                {
                    foreach (var tensor in latents) tensor.Dispose();
                }
            });
            console.WriteLine(decode ? $"wrote {request.ImageCount} image(s) to {outDir}" : "done (no images decoded)");
            return CliApp.Success;
        });
        return command;
    }
}
