using System.CommandLine;
using PersonGen.Diffusion;
using Spectre.Console;
using static TorchSharp.torch;

namespace PersonGen.Cli.Commands;

/// <summary><c>persongen generate</c>: text-to-image with classifier-free guidance (DDIM, Euler or DPM-Solver++ 2M), PNGs with their settings.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model folder (diffusers layout) or a Hugging Face id in the local cache.", Required = true };
        var concept = new Option<string?>("--concept") { Description = "Concept checkpoint to apply (persongen train output, or a reference SVDiff checkpoint folder)." };
        var prompt = new Option<string>("--prompt") { Description = "The prompt.", Required = true };
        var negative = new Option<string>("--negative-prompt") { Description = "Negative prompt (the unconditional branch).", DefaultValueFactory = _ => "" };
        var steps = new Option<int>("--steps") { Description = "Sampling steps.", DefaultValueFactory = _ => 50 };
        var guidance = new Option<double>("--guidance") { Description = "Classifier-free guidance scale.", DefaultValueFactory = _ => 7.5 };
        var scheduler = SharedOptions.Scheduler();
        var karras = SharedOptions.Karras();
        var seed = new Option<long>("--seed") { Description = "Seed of the initial noise (PyTorch CPU generator).", DefaultValueFactory = _ => 0 };
        var count = new Option<int>("-n", "--num-images") { Description = "Images to generate.", DefaultValueFactory = _ => 1 };
        var height = new Option<int?>("--height") { Description = "Image height (default: the model's native size)." };
        var width = new Option<int?>("--width") { Description = "Image width (default: the model's native size)." };
        var output = new Option<string>("--out") { Description = "Output folder for the PNGs.", DefaultValueFactory = _ => "out" };
        var initLatents = new Option<string?>("--init-latents") { Description = "Safetensors file whose tensor 'latents' (N,C,h,w) is the unscaled draw; x_T = latents × the scheduler's init sigma.", HelpName = "FILE" };
        var latentsOut = new Option<string?>("--latents-out") { Description = "Write the final latents (tensor 'latents', float32, NCHW) to FILE.", HelpName = "FILE" };
        var noDecode = new Option<bool>("--no-decode") { Description = "Skip VAE decoding and PNG output (latents only)." };
        var batchSize = new Option<int?>("--batch-size") { Description = "Images denoised at once; -n only sets how many are written (default: four 512x512 images' worth of pixels on CPU, eight on GPU). Results do not depend on it." };
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
            if (parseResult.GetValue(batchSize) is < 1 and var badBatch)
                throw new InvalidInputException($"--batch-size {badBatch} must be at least 1");
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
                    TextToImage.GenerateInBatches(sd, request, parseResult.GetValue(batchSize) ?? TextToImage.DefaultBatchSize(sd, h, w), (first, result) =>
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
