using PersonGen.Runtime;
using static TorchSharp.torch;

namespace PersonGen.Diffusion;

/// <summary>The final latents of a run, its decoded images (if asked for) and its cost.</summary>
public sealed class GenerationResult(Tensor latents, Tensor? images, double rowsPerImage) : IDisposable
{
    /// <summary>Final latents, (N, C, h, w).</summary>
    public Tensor Latents { get; } = latents;

    /// <summary>Decoded images in [-1, 1], (N, 3, H, W); null when decoding was skipped.</summary>
    public Tensor? Images { get; } = images;

    /// <summary>UNet rows evaluated per image.</summary>
    public double RowsPerImage { get; } = rowsPerImage;

    public void Dispose()
    {
        Latents.Dispose();
        Images?.Dispose();
    }
}

/// <summary>Plain text-to-image generation with classifier-free guidance and a negative prompt.</summary>
public static class TextToImage
{
    /// <summary>
    /// Generates <see cref="GenerationRequest.ImageCount"/> images. <paramref name="initialLatents"/> (N, C, h, w) replaces
    /// the seeded draw when given; like the draw it is unscaled (diffusers' <c>latents=</c>): the scheduler's initial sigma multiplies it.
    /// </summary>
    public static GenerationResult Generate(StableDiffusionModel model, GenerationRequest request, Tensor? initialLatents = null,
        bool decode = true, IProgress<ProgressUpdate>? progress = null, CancellationToken cancellation = default)
    {
        request.Validate();
        int height = request.Height ?? model.DefaultImageSize, width = request.Width ?? model.DefaultImageSize;
        var shape = LatentNoise.Shape(model, request.ImageCount, height, width);
        var scheduler = model.SchedulerFor(request.Scheduler);
        var prompts = new Dictionary<string, string>
        {
            [ClassifierFreeGuidance.PromptName] = request.Prompt,
            [ClassifierFreeGuidance.NegativeName] = request.NegativePrompt,
        };
        using var run = new DenoisingRun(prompts, request.ImageCount, shape, request.Seed);
        using var loop = new DenoisingLoop(model.AsDenoiser(), model.AsConditioner());
        using var noise = initialLatents?.alias() ?? LatentNoise.Draw(model, shape, request.Seed);
        var latents = loop.Run(new ClassifierFreeGuidance(request.Guidance), scheduler, request.Steps, run, noise, progress, cancellation);
        var images = decode ? model.DecodeLatents(latents) : null;
        return new GenerationResult(latents, images, run.RowsPerImage);
    }
}
