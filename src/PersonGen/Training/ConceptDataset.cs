using System.Diagnostics;
using PersonGen.Diffusion;
using PersonGen.IO;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Training;

/// <summary>
/// The training images of a concept (or of its class, for prior preservation) as model inputs: each photo is
/// center-cropped to a square and resized to the model resolution S, then encoded ONCE through the frozen VAE
/// (posterior mean × scaling factor; a pixel-space model uses the pixels in [−1, 1]) and cached, with its mirror
/// image when flips are on. With Custom Diffusion's random-scale augmentation every draw is a new image, so those
/// are encoded per draw: the photo is resized to a random size s (s ~ U[S/3, S] with p 0.66, else U[1.2S, 1.4S)),
/// then placed at a random position on a zero canvas (s ≤ S) or randomly cropped (s &gt; S); the loss mask covers
/// the placed image at latent resolution shrunk by one latent pixel, and small/large scales get a "far away" /
/// "close up" style prompt prefix.
/// </summary>
public sealed class ConceptDataset : IDisposable
{
    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".webp"];
    private static readonly string[] SmallPrefixes = ["a far away ", "very small "];
    private static readonly string[] LargePrefixes = ["zoomed in ", "close up "];

    private readonly StableDiffusionModel _model;
    private readonly List<Tensor> _latents = [];
    private readonly List<Tensor> _flippedLatents = [];
    private readonly List<SKBitmap> _photos = [];

    private ConceptDataset(StableDiffusionModel model, string folder, bool flip, bool randomScale)
    {
        _model = model;
        Folder = folder;
        Flip = flip;
        RandomScale = randomScale;
        Resolution = model.DefaultImageSize;
        LatentSize = Resolution / model.LatentFormat.Factor;
    }

    /// <summary>The image folder.</summary>
    public string Folder { get; }

    /// <summary>Number of photos.</summary>
    public int Count => Files.Count;

    /// <summary>The photo files, sorted by name.</summary>
    public IReadOnlyList<string> Files { get; private set; } = [];

    /// <summary>Side S of the square training images (the model's native size).</summary>
    public int Resolution { get; }

    /// <summary>Side of the latents (S / VAE factor).</summary>
    public int LatentSize { get; }

    /// <summary>Whether draws are mirrored with probability ½.</summary>
    public bool Flip { get; }

    /// <summary>Whether Custom Diffusion's random-scale augmentation (with loss mask and prompt prefixes) is on.</summary>
    public bool RandomScale { get; }

    /// <summary>Seconds spent in VAE encoding so far (at load for cached latents; per draw with random scale).</summary>
    public double EncodeSeconds { get; private set; }

    /// <summary>Number of VAE encodings done so far.</summary>
    public int Encodings { get; private set; }

    /// <summary>
    /// Loads every JPEG/PNG/WebP image of <paramref name="folder"/> for <paramref name="model"/>.
    /// </summary>
    /// <exception cref="InvalidInputException">The folder is missing, has no images, or an image is unreadable.</exception>
    public static ConceptDataset Load(StableDiffusionModel model, string folder, bool flip = false, bool randomScale = false)
    {
        var dataset = new ConceptDataset(model, folder, flip, randomScale);
        try
        {
            dataset.Files = ImageFiles(folder);
            foreach (string file in dataset.Files) dataset.Add(file);
            return dataset;
        }
        catch
        {
            dataset.Dispose();
            throw;
        }
    }

    /// <summary>The image files of a folder (sorted), or a one-line error when there are none.</summary>
    /// <exception cref="InvalidInputException">The folder is missing or holds no JPEG/PNG/WebP file.</exception>
    public static IReadOnlyList<string> ImageFiles(string folder)
    {
        if (!Directory.Exists(folder))
            throw new InvalidInputException($"image folder '{folder}' does not exist: pass `images` DIR with the concept's JPEG/PNG/WebP photos");
        var files = Directory.EnumerateFiles(folder)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new InvalidInputException($"image folder '{folder}' holds no JPEG/PNG/WebP images: put 3–20 photos of the concept in it");
        return files;
    }

    private void Add(string file)
    {
        var photo = ImageIO.Load(file);
        if (RandomScale)
        {
            _photos.Add(photo);
            return;
        }
        using (photo)
        using (var square = ImageIO.ResizeCenterCrop(photo, Resolution, Resolution))
        using (var pixels = ImageIO.ToTensor(square))
        {
            _latents.Add(Encode(pixels));
            if (Flip)
            {
                using var mirrored = pixels.flip(3);
                _flippedLatents.Add(Encode(mirrored));
            }
        }
    }

    /// <summary>
    /// One training example for image <paramref name="index"/>: latents [1,C,h,w], the loss mask [1,1,h,w] (null when
    /// the whole image counts) and the prompt prefix ("" unless the random scale calls for one). Draws (flip, scale,
    /// position, prefix) come from <paramref name="generator"/>.
    /// </summary>
    public (Tensor Latents, Tensor? Mask, string PromptPrefix) Draw(int index, Generator generator)
    {
        bool mirrored = Flip && Uniform(generator) < 0.5;
        if (!RandomScale) return ((mirrored ? _flippedLatents : _latents)[index].clone(), null, "");
        using var scope = torch.NewDisposeScope();
        var (pixels, mask, prefix) = Augment(_photos[index], generator);
        if (mirrored)
        {
            pixels = pixels.flip(3);
            mask = mask.flip(3);
        }
        var latents = Encode(pixels);
        return (latents.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope(), prefix);
    }

    private (Tensor Pixels, Tensor Mask, string Prefix) Augment(SKBitmap photo, Generator generator)
    {
        int size = Resolution, factor = Resolution / LatentSize;
        int scale = Uniform(generator) < 0.66
            ? RandomInt(generator, size / 3, size + 1)
            : RandomInt(generator, (int)(1.2 * size), (int)(1.4 * size));
        Tensor scaled;
        using (var resized = ImageIO.ResizeCenterCrop(photo, scale, scale)) scaled = ImageIO.ToTensor(resized);
        Tensor pixels, mask;
        if (scale > size)
        {
            int top = RandomInt(generator, 0, scale - size + 1), left = RandomInt(generator, 0, scale - size + 1);
            pixels = scaled[.., .., top..(top + size), left..(left + size)].contiguous();
            mask = torch.ones(1, 1, LatentSize, LatentSize);
        }
        else
        {
            int top = RandomInt(generator, 0, size - scale + 1), left = RandomInt(generator, 0, size - scale + 1);
            pixels = torch.zeros(1, 3, size, size);
            pixels[.., .., top..(top + scale), left..(left + scale)] = scaled;
            mask = torch.zeros(1, 1, LatentSize, LatentSize);
            int rowStart = top / factor + 1, rowEnd = (top + scale) / factor - 1;
            int colStart = left / factor + 1, colEnd = (left + scale) / factor - 1;
            if (rowEnd > rowStart && colEnd > colStart) mask[.., .., rowStart..rowEnd, colStart..colEnd] = 1.0f;
        }
        string prefix = scale < 0.6 * size ? SmallPrefixes[RandomInt(generator, 0, 2)]
            : scale > size ? LargePrefixes[RandomInt(generator, 0, 2)]
            : "";
        return (pixels, mask, prefix);
    }

    /// <summary>VAE posterior mean × scaling factor (no gradient), on the model's device and dtype.</summary>
    private Tensor Encode(Tensor pixels)
    {
        var clock = Stopwatch.StartNew();
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var input = pixels.to(_model.Compute.DType, _model.Compute.Device);
        Tensor latents;
        if (_model.Vae is null) latents = input.clone();
        else
        {
            using var posterior = _model.Vae.Encode(input);
            latents = posterior.Mean * _model.Vae.ScalingFactor;
        }
        EncodeSeconds += clock.Elapsed.TotalSeconds;
        Encodings++;
        return latents.MoveToOuterDisposeScope();
    }

    private static double Uniform(Generator generator)
    {
        using var draw = torch.rand(1, generator: generator, dtype: ScalarType.Float64);
        return draw.item<double>();
    }

    /// <summary>An integer in [low, high), like numpy's randint.</summary>
    internal static int RandomInt(Generator generator, int low, int high)
    {
        using var draw = torch.randint(low, high, [1], generator: generator, dtype: ScalarType.Int64);
        return (int)draw.item<long>();
    }

    public void Dispose()
    {
        foreach (var tensor in _latents.Concat(_flippedLatents)) tensor.Dispose();
        foreach (var photo in _photos) photo.Dispose();
        _latents.Clear();
        _flippedLatents.Clear();
        _photos.Clear();
    }
}
