using PersonGen.Diffusion;
using PersonGen.Diffusion.Schedulers;
using PersonGen.Runtime;
using static TorchSharp.torch;

namespace PersonGen.Sampling;

/// <summary>A personalized sampling request: the concept prompt, step count, seed, images and size.</summary>
public sealed record SamplingRequest
{
    public required ConceptPrompt Prompt { get; init; }
    public int Steps { get; init; } = 50;
    public long Seed { get; init; }
    public int ImageCount { get; init; } = 1;

    /// <summary>Image height in pixels; null = the model's native size.</summary>
    public int? Height { get; init; }

    /// <summary>Image width in pixels; null = the model's native size.</summary>
    public int? Width { get; init; }

    /// <summary>The sampling scheduler (DDIM by default).</summary>
    public SchedulerChoice Scheduler { get; init; } = SchedulerChoice.Default;
}

/// <summary>One strategy's outcome: final latents, images (if decoded), cost and per-step diagnostics (Masked's masks).</summary>
public sealed class SamplingResult(string spec, Tensor latents, Tensor? images, double rowsPerImage, int steps,
    IReadOnlyDictionary<string, IReadOnlyList<Tensor>> diagnostics) : IDisposable
{
    public string Spec { get; } = spec;

    public Tensor Latents { get; } = latents;

    public Tensor? Images { get; } = images;

    /// <summary>UNet rows per image (one row = one latent through the UNet once).</summary>
    public double RowsPerImage { get; } = rowsPerImage;

    /// <summary>Rows per image relative to Base, which evaluates 2 rows per step.</summary>
    public double CostRelativeToBase => RowsPerImage / (2.0 * steps);

    /// <summary>Per-step tensors the strategy recorded (CPU), for example "mask" for Masked sampling.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<Tensor>> Diagnostics { get; } = diagnostics;

    public void Dispose()
    {
        Latents.Dispose();
        Images?.Dispose();
        foreach (var list in Diagnostics.Values)
            foreach (var tensor in list) tensor.Dispose();
    }
}

/// <summary>
/// Runs sampling strategies on a (fine-tuned) model for a concept prompt. Every strategy of one request starts from
/// the same x_T, which depends only on the template and the seed (the reference's rule), so images pair up.
/// </summary>
public sealed class PersonalizedSampler(StableDiffusionModel model) : IDisposable
{
    private readonly DenoisingLoop _loop = new(model.AsDenoiser(), model.AsConditioner());

    /// <summary>The latent shape of a request.</summary>
    public long[] LatentShape(SamplingRequest request) => LatentNoise.Shape(model, request.ImageCount,
        request.Height ?? model.DefaultImageSize, request.Width ?? model.DefaultImageSize);

    /// <summary>x_T for a request: randn from the seed Σ ord(template) + seed.</summary>
    public Tensor InitialLatents(SamplingRequest request) =>
        LatentNoise.Draw(model, LatentShape(request), request.Prompt.NoiseSeed(request.Seed));

    /// <summary>
    /// Runs <paramref name="strategy"/>. <paramref name="initialLatents"/> replaces the seeded x_T; <paramref name="inputs"/>
    /// passes extra tensors such as ProFusion's noise stream.
    /// </summary>
    /// <exception cref="InvalidInputException">Parameters beyond the step count, or a placeholder missing from the prompt's tokens.</exception>
    public SamplingResult Sample(ISamplingStrategy strategy, SamplingRequest request, Tensor? initialLatents = null,
        IReadOnlyDictionary<string, Tensor>? inputs = null, bool decode = true, IProgress<ProgressUpdate>? progress = null,
        CancellationToken cancellation = default)
    {
        Validate(strategy, request);
        using var noise = initialLatents?.alias() ?? InitialLatents(request);
        return Run(strategy, request, noise, 0, inputs, decode, progress, cancellation);
    }

    /// <summary>
    /// Runs <paramref name="strategy"/> on the request's images at most <paramref name="batchSize"/> at a time, so memory is
    /// bounded by the batch and not by N: x_T (and any per-image noise a strategy draws) is drawn for all N images and each
    /// batch takes its slice, so the images equal those of <see cref="Sample"/>. Each batch's result goes to
    /// <paramref name="onBatch"/> with the index of its first image, then is disposed.
    /// </summary>
    /// <exception cref="InvalidInputException">A batch size below 1, or what <see cref="Sample"/> refuses.</exception>
    public void SampleInBatches(ISamplingStrategy strategy, SamplingRequest request, int batchSize, Action<int, SamplingResult> onBatch,
        Tensor? initialLatents = null, IReadOnlyDictionary<string, Tensor>? inputs = null, bool decode = true,
        IProgress<ProgressUpdate>? progress = null, CancellationToken cancellation = default)
    {
        Validate(strategy, request);
        if (batchSize < 1) throw new InvalidInputException($"batch size {batchSize} must be at least 1");
        using var noise = initialLatents?.alias() ?? InitialLatents(request);
        for (int first = 0; first < request.ImageCount; first += batchSize)
        {
            using var slice = noise.narrow(0, first, Math.Min(batchSize, request.ImageCount - first));
            using var result = Run(strategy, request, slice, first, inputs, decode, progress, cancellation);
            onBatch(first, result);
        }
    }

    private static void Validate(ISamplingStrategy strategy, SamplingRequest request)
    {
        if (request.Steps < 1) throw new InvalidInputException($"`steps` must be at least 1 (got {request.Steps})");
        if (request.ImageCount < 1) throw new InvalidInputException($"`image_count` must be at least 1 (got {request.ImageCount})");
        strategy.Validate(request.Steps);
    }

    /// <summary>Denoises the images <paramref name="firstImage"/>.. of the request whose x_T is <paramref name="noise"/>.</summary>
    private SamplingResult Run(ISamplingStrategy strategy, SamplingRequest request, Tensor noise, int firstImage,
        IReadOnlyDictionary<string, Tensor>? inputs, bool decode, IProgress<ProgressUpdate>? progress, CancellationToken cancellation)
    {
        var prompt = request.Prompt;
        var prompts = new Dictionary<string, string>
        {
            [PromptNames.Unconditional] = "",
            [PromptNames.Concept] = prompt.Concept,
            [PromptNames.Superclass] = prompt.Superclass,
            [PromptNames.Empty] = prompt.Empty,
        };
        int count = (int)noise.shape[0];
        using var run = new DenoisingRun(prompts, count, [.. noise.shape], prompt.NoiseSeed(request.Seed))
        {
            FirstImage = firstImage,
            TotalImageCount = request.ImageCount,
            PlaceholderPositions = model.TokenPositions(prompt.Concept, prompt.Placeholder),
            Inputs = inputs ?? new Dictionary<string, Tensor>(),
        };
        var scheduler = model.SchedulerFor(request.Scheduler);
        var latents = _loop.Run(strategy, scheduler, request.Steps, run, noise, progress, cancellation, strategy.Spec);
        var images = decode ? model.DecodeLatents(latents) : null;
        var diagnostics = run.Diagnostics.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<Tensor>)kv.Value.Select(t => t.clone().DetachFromDisposeScope()).ToList());
        return new SamplingResult(strategy.Spec, latents, images, run.RowsPerImage, request.Steps, diagnostics);
    }

    public void Dispose() => _loop.Dispose();
}
