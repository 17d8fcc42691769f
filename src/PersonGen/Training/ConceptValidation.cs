using System.Text.Json;
using PersonGen.Diffusion;
using PersonGen.IO;
using PersonGen.Runtime;
using SkiaSharp;
using TorchSharp;

namespace PersonGen.Training;

/// <summary>
/// Writes the validation grids of a training run. Between optimizer steps the model shows the current concept, so
/// validation samples it as it is (<see cref="TextToImage"/>, eval mode, no grad): one row of K images per prompt,
/// captioned, in <c>validation/step-&lt;k&gt;.png</c> (atomic), with prompts, seed and step as the PNG
/// <c>parameters</c> text. Sampling draws from its own seeded generator and writes no weight, so the training that
/// follows is bit-identical to a run without validation.
/// </summary>
internal sealed class ConceptValidation(StableDiffusionModel model, ValidationOptions options, string outDir, int checkpointEvery,
    long totalSteps, bool keepExisting, IProgress<ProgressUpdate>? progress, CancellationToken cancellation)
{
    private const string Stage = "validation";

    /// <summary>Where the grid of step <paramref name="step"/> goes.</summary>
    public static string GridPath(string outDir, long step) => Path.Combine(outDir, ValidationOptions.FolderName, FormattableString.Invariant($"step-{step}.png"));

    private int Every => options.Every > 0 ? options.Every : checkpointEvery;

    /// <summary>Whether <paramref name="step"/> is a validation point: a multiple of the interval, or the last step.</summary>
    public bool IsDue(long step) => options.Prompts.Count > 0 && step > 0 && (step == totalSteps || (Every > 0 && step % Every == 0));

    /// <summary>Writes the grid of <paramref name="step"/> if it is a validation point (a resumed run keeps grids that exist).</summary>
    public void RunIfDue(long step)
    {
        if (!IsDue(step)) return;
        string path = GridPath(outDir, step);
        if (keepExisting && File.Exists(path)) return;
        var images = new List<SKBitmap>();
        var captions = new List<string>();
        bool unetTraining = model.Unet.training, textTraining = model.TextEncoder.training;
        model.Unet.eval();
        model.TextEncoder.eval();
        try
        {
            using var noGrad = torch.no_grad();
            var requests = options.Prompts.Select(prompt => new GenerationRequest
            {
                Prompt = prompt,
                Steps = options.Steps,
                Seed = options.Seed,
                ImageCount = options.ImagesPerPrompt,
            }).ToList();
            for (int i = 0; i < requests.Count; i++)
            {
                progress?.Report(new ProgressUpdate(Stage, i, requests.Count));
                var request = requests[i];
                using var result = TextToImage.Generate(model, request, cancellation: cancellation);
                images.AddRange(ImageIO.FromTensor(result.Images!));
                captions.AddRange(Enumerable.Repeat(request.Prompt, request.ImageCount));
            }
            using var grid = ImageGrid.Create(images, options.ImagesPerPrompt, captions);
            var parameters = new
            {
                command = "train",
                validation_step = step,
                prompts = options.Prompts,
                seed = options.Seed,
                images_per_prompt = options.ImagesPerPrompt,
                steps = options.Steps,
                guidance = requests[0].Guidance,
                scheduler = "DDIM",
                model = model.Source,
            };
            ImageIO.SavePng(grid, path, JsonSerializer.Serialize(parameters));
            progress?.Report(new ProgressUpdate(Stage, options.Prompts.Count, options.Prompts.Count));
        }
        finally
        {
            foreach (var image in images) image.Dispose();
            model.Unet.train(unetTraining);
            model.TextEncoder.train(textTraining);
        }
    }
}
