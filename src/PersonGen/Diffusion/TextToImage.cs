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
        var shape = Shape(model, request);
        using var noise = initialLatents?.alias() ?? LatentNoise.Draw(model, shape, request.Seed);
        return Denoise(model, request, noise, decode, progress, cancellation);
    }

    /// <summary>
    /// Generates the request's images at most <paramref name="batchSize"/> at a time, so memory is bounded by the batch and
    /// not by N: x_T is drawn for all N images at once (as <see cref="Generate"/> draws it) and denoised in slices, and each
    /// slice's result goes to <paramref name="onBatch"/> with the index of its first image, then is disposed.
    /// </summary>
    /// <exception cref="InvalidInputException">A batch size below 1, or a request out of range.</exception>
    public static void GenerateInBatches(StableDiffusionModel model, GenerationRequest request, int batchSize,
        Action<int, GenerationResult> onBatch, Tensor? initialLatents = null, bool decode = true,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellation = default)
    {
        request.Validate();
        if (batchSize < 1) throw new InvalidInputException($"batch size {batchSize} must be at least 1");
        var shape = Shape(model, request);
        using var noise = initialLatents?.alias() ?? LatentNoise.Draw(model, shape, request.Seed);
        for (int first = 0; first < request.ImageCount; first += batchSize)
        {
            int count = Math.Min(batchSize, request.ImageCount - first);
            using var slice = noise.narrow(0, first, count);
            using var result = Denoise(model, request with { ImageCount = count }, slice, decode, progress, cancellation);
            onBatch(first, result);
        }
    }

    /// <summary>
    /// Images per batch that keep one batch's activations near those of four native SD images (CPU) or eight (GPU): the
    /// UNet's memory grows with the pixels of the batch.
    /// </summary>
    public static int DefaultBatchSize(StableDiffusionModel model, int height, int width)
    {
        long budget = (model.Compute.Device.type == TorchSharp.DeviceType.CUDA ? 8L : 4L) * 512 * 512;
        return (int)Math.Clamp(budget / ((long)height * width), 1, int.MaxValue);
    }

    private static long[] Shape(StableDiffusionModel model, GenerationRequest request) =>
        LatentNoise.Shape(model, request.ImageCount, request.Height ?? model.DefaultImageSize, request.Width ?? model.DefaultImageSize);

    private static GenerationResult Denoise(StableDiffusionModel model, GenerationRequest request, Tensor noise, bool decode,
        IProgress<ProgressUpdate>? progress, CancellationToken cancellation)
    {
        var scheduler = model.SchedulerFor(request.Scheduler);
        var prompts = new Dictionary<string, string>
        {
            [ClassifierFreeGuidance.PromptName] = request.Prompt,
            [ClassifierFreeGuidance.NegativeName] = request.NegativePrompt,
        };
        using var run = new DenoisingRun(prompts, request.ImageCount, [.. noise.shape], request.Seed);
        using var loop = new DenoisingLoop(model.AsDenoiser(), model.AsConditioner());
        var latents = loop.Run(new ClassifierFreeGuidance(request.Guidance), scheduler, request.Steps, run, noise, progress, cancellation);
        var images = decode ? model.DecodeLatents(latents) : null;
        return new GenerationResult(latents, images, run.RowsPerImage);
    }
}
