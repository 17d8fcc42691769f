using PersonGen.Diffusion;
using PersonGen.Runtime;
using static TorchSharp.torch;

namespace PersonGen.World;

/// <summary>
/// Text-to-image with a world model folder (pixel space, so the final latents are the image): DDIM with
/// classifier-free guidance through <see cref="TextToImage"/>. For measuring the base model.
/// </summary>
public sealed class WorldSampler : IDisposable
{
    private readonly StableDiffusionModel _model;

    /// <summary>Loads the world model of <paramref name="modelFolder"/> (float32, CPU).</summary>
    /// <exception cref="ModelLoadException">A component is missing or does not match its config.</exception>
    public WorldSampler(string modelFolder) => _model = StableDiffusionModel.Load(modelFolder, ComputeOptions.Cpu);

    /// <summary>Side of the generated images (the UNet's sample_size).</summary>
    public int ImageSize => _model.DefaultImageSize;

    /// <summary>
    /// <paramref name="count"/> images for <paramref name="prompt"/> as a float32 tensor [count, 3, H, W] in [-1, 1],
    /// from N(0, I) noise drawn with <paramref name="seed"/>, <paramref name="steps"/> DDIM steps, guidance ω = <paramref name="guidance"/>.
    /// </summary>
    public Tensor Generate(string prompt, int count, long seed, double guidance = 7, int steps = 25)
    {
        var request = new GenerationRequest { Prompt = prompt, Steps = steps, Guidance = guidance, Seed = seed, ImageCount = count };
        using var result = TextToImage.Generate(_model, request);
        return result.Images!.clamp(-1, 1);
    }

    public void Dispose() => _model.Dispose();
}
