using PersonGen.Diffusion;
using PersonGen.IO;
using PersonGen.Runtime;
using SkiaSharp;
using static TorchSharp.torch;

namespace PersonGen.Sampling;

/// <summary>Where and what <see cref="PersonalizedSampling.Write"/> writes.</summary>
public sealed record SamplingOutputs
{
    /// <summary>Folder of the per-strategy image folders and grid.png.</summary>
    public required string Directory { get; init; }

    /// <summary>Decode and write PNGs and the grid; false writes latents only.</summary>
    public bool Decode { get; init; } = true;

    /// <summary>Write each step's mask of strategies that record one (Masked) under the strategy's folder.</summary>
    public bool SaveMasks { get; init; }

    /// <summary>Safetensors file for the final latents ('latents' for one strategy, else one tensor per spec); null = none.</summary>
    public string? LatentsFile { get; init; }

    /// <summary>Model source recorded in each PNG's settings.</summary>
    public string? ModelSource { get; init; }

    /// <summary>Concept checkpoint recorded in each PNG's settings.</summary>
    public string? ConceptSource { get; init; }
}

/// <summary>One strategy's cost: UNet rows per image and the ratio to Base.</summary>
public sealed record StrategyCost(string Spec, double RowsPerImage, double RelativeToBase);

/// <summary>
/// Samples several strategies from the same x_T in memory-bounded batches and writes what <c>persongen sample</c> writes:
/// each strategy's PNGs with their settings in <c>{slug}/{i}.png</c>, Masked's masks, one grid.png and the final latents.
/// </summary>
public static class PersonalizedSampling
{
    /// <summary>Runs every strategy in batches of at most <paramref name="batchSize"/> images and writes the outputs; returns each strategy's cost.</summary>
    /// <exception cref="InvalidInputException">What <see cref="PersonalizedSampler.SampleInBatches"/> refuses.</exception>
    public static IReadOnlyList<StrategyCost> Write(PersonalizedSampler sampler, IReadOnlyList<ISamplingStrategy> strategies,
        SamplingRequest request, SamplingOutputs outputs, int batchSize, Tensor? initialLatents = null,
        IReadOnlyDictionary<string, Tensor>? inputs = null, IProgress<ProgressUpdate>? progress = null, CancellationToken cancellation = default)
    {
        var costs = new List<StrategyCost>();
        var latents = new List<KeyValuePair<string, Tensor>>();
        var gridImages = new List<SKBitmap>();
        var captions = new List<string>();
        try
        {
            foreach (var strategy in strategies)
            {
                string directory = Path.Combine(outputs.Directory, OutputPath.Slug(strategy.Spec));
                var settings = new { command = "sample", model = outputs.ModelSource, concept = outputs.ConceptSource, strategy = strategy.Spec, request = Describe(request) };
                var batches = new List<Tensor>();
                double rowsPerImage = 0, relative = 0;
                try
                {
                    sampler.SampleInBatches(strategy, request, batchSize, (first, result) =>
                    {
                        (rowsPerImage, relative) = (result.RowsPerImage, result.CostRelativeToBase);
                        if (outputs.LatentsFile is not null) batches.Add(result.Latents.detach().cpu().clone().DetachFromDisposeScope());
                        if (result.Images is { } images)
                        {
                            var bitmaps = ImageOutput.SavePngs(images, directory, settings, first);
                            gridImages.AddRange(bitmaps);
                            captions.AddRange(bitmaps.Select((_, i) => first + i == 0 ? strategy.Spec : ""));
                        }
                        if (outputs.SaveMasks && result.Diagnostics.TryGetValue("mask", out var masks))
                            SaveMasks(masks, Path.Combine(directory, "masks"), request.Steps - masks.Count, first);
                    }, initialLatents, inputs, outputs.Decode, progress, cancellation);
                    if (outputs.LatentsFile is not null)
                        latents.Add(KeyValuePair.Create(strategies.Count == 1 ? "latents" : strategy.Spec, cat(batches).DetachFromDisposeScope()));
                }
                finally
                {
                    foreach (var batch in batches) batch.Dispose();
                }
                costs.Add(new StrategyCost(strategy.Spec, rowsPerImage, relative));
            }
            if (outputs.LatentsFile is { } latentsFile) ImageOutput.SaveLatents(latentsFile, latents);
            if (gridImages.Count > 0)
            {
                using var grid = ImageGrid.Create(gridImages, request.ImageCount, captions);
                ImageIO.SavePng(grid, Path.Combine(outputs.Directory, "grid.png"));
            }
        }
        finally
        {
            foreach (var kv in latents) kv.Value.Dispose();
            foreach (var bitmap in gridImages) bitmap.Dispose();
        }
        return costs;
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

    private static void SaveMasks(IReadOnlyList<Tensor> masks, string directory, int firstStep, int firstImage)
    {
        OutputPath.CreateDirectory(directory);
        for (int k = 0; k < masks.Count; k++)
        {
            using var rgb = masks[k].to_type(ScalarType.Float32).expand(-1, 3, -1, -1);
            var bitmaps = ImageIO.FromTensor(rgb, PixelRange.ZeroToOne);
            for (int i = 0; i < bitmaps.Length; i++)
            {
                ImageIO.SavePng(bitmaps[i], Path.Combine(directory, $"step{firstStep + k:00}_{firstImage + i}.png"));
                bitmaps[i].Dispose();
            }
        }
    }
}
