using PersonGen.IO;
using static TorchSharp.torch;

namespace PersonGen.Diffusion;

/// <summary>The initial latents x_T of a run: drawn from a seed, or read from a file for exact comparisons.</summary>
public static class LatentNoise
{
    /// <summary>The largest image side in pixels: 8× SD's native 512; beyond it one image's activations outgrow any device.</summary>
    public const int MaxImageSide = 4096;

    /// <summary>The latent shape (N, C, h, w) for an image size, checking that the size fits the model.</summary>
    public static long[] Shape(StableDiffusionModel model, int imageCount, int height, int width)
    {
        var (channels, factor) = model.LatentFormat;
        if (height > MaxImageSide || width > MaxImageSide)
            throw new InvalidInputException($"image size {width}x{height} exceeds the limit of {MaxImageSide} pixels a side: choose a smaller `height`/`width`");
        if (height % factor != 0 || width % factor != 0 || height < factor || width < factor)
            throw new InvalidInputException($"image size {width}x{height} must be a positive multiple of {factor} for this model");
        return [imageCount, channels, height / factor, width / factor];
    }

    /// <summary>randn(shape) from a CPU generator seeded with <paramref name="seed"/> (as PyTorch draws it), on the model's device.</summary>
    public static Tensor Draw(StableDiffusionModel model, long[] shape, long seed) =>
        NoiseSource.Randn(shape, seed, model.Compute.Device, model.Compute.DType);

    /// <summary>Reads tensor <paramref name="name"/> from a safetensors file and checks it has <paramref name="shape"/>.</summary>
    public static Tensor Read(StableDiffusionModel model, string path, long[] shape, string name = "latents")
    {
        using var file = SafetensorsFile.Open(path);
        if (!file.ByName.TryGetValue(name, out var entry))
            throw new InvalidInputException($"{path}: no tensor named '{name}' (found: {string.Join(", ", file.Entries.Select(e => e.Name))})");
        if (!entry.Shape.SequenceEqual(shape))
            throw new InvalidInputException($"{path}: tensor '{name}' has shape [{string.Join(", ", entry.Shape)}] but this run needs [{string.Join(", ", shape)}]");
        return file.Read(name, model.Compute.DType, model.Compute.Device);
    }
}
