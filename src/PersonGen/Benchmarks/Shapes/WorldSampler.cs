using PersonGen.Diffusion;
using PersonGen.Diffusion.Schedulers;
using PersonGen.Models.Attention;
using PersonGen.Models.Clip;
using PersonGen.Models.Unet;
using PersonGen.Sampling;
using PersonGen.Sampling.Strategies;
using static TorchSharp.torch;

namespace PersonGen.Benchmarks.Shapes;

/// <summary>
/// Text-to-image with a world model folder (pixel space, so the final latents are the image): DDIM with
/// classifier-free guidance (<see cref="BaseStrategy"/>) through the shared <see cref="DenoisingLoop"/>. For
/// measuring the base model; the concept pipeline with fine-tuned weights lives elsewhere.
/// </summary>
public sealed class WorldSampler : IDisposable
{
    private readonly UNet2DConditionModel _unet;
    private readonly ClipTextModel _textEncoder;
    private readonly ClipTokenizer _tokenizer;
    private readonly DdimConfig _scheduler;

    /// <summary>Loads the UNet, text encoder, tokenizer and scheduler of <paramref name="modelFolder"/> (float32, CPU).</summary>
    /// <exception cref="ModelLoadException">A component is missing or does not match its config.</exception>
    public WorldSampler(string modelFolder)
    {
        (_unet, _textEncoder) = WorldModelLayout.LoadModels(modelFolder);
        _tokenizer = ClipTokenizer.FromFolder(Path.Combine(modelFolder, "tokenizer"));
        _scheduler = WorldModelLayout.LoadScheduler(modelFolder);
    }

    /// <summary>Side of the generated images (the UNet's sample_size).</summary>
    public int ImageSize => _unet.Config.SampleSize ?? 16;

    /// <summary>
    /// <paramref name="count"/> images for <paramref name="prompt"/> as a float32 tensor [count, 3, H, W] in [-1, 1],
    /// from N(0, I) noise drawn with <paramref name="seed"/>, <paramref name="steps"/> DDIM steps, guidance ω = <paramref name="guidance"/>.
    /// </summary>
    public Tensor Generate(string prompt, int count, long seed, double guidance = 7, int steps = 25)
    {
        if (count < 1) throw new InvalidInputException($"image count {count} must be at least 1");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var schedule = _scheduler.CreateSchedule(steps);
        long[] shape = [count, _unet.Config.InChannels, ImageSize, ImageSize];
        var prompts = new Dictionary<string, string> { [PromptNames.Unconditional] = "", [PromptNames.Concept] = prompt };
        using var run = new DenoisingRun(prompts, count, shape, seed);
        using var loop = new DenoisingLoop(new Denoiser(_unet), new TextConditioner(_tokenizer, _textEncoder));
        var noise = NoiseSource.Randn(shape, seed) * schedule.InitNoiseSigma;
        var images = loop.Run(new BaseStrategy(guidance), schedule, run, noise);
        return images.clamp(-1, 1).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _unet.Dispose();
        _textEncoder.Dispose();
    }

    private sealed class Denoiser(UNet2DConditionModel unet) : IDenoiser
    {
        public Tensor Predict(Tensor sample, long timestep, Tensor encoderHiddenStates, IAttentionHook? hook)
        {
            unet.AttentionHook = hook;
            using var t = tensor(timestep, ScalarType.Int64);
            return unet.forward(sample, t, encoderHiddenStates);
        }

        public void UseWeights(ModelWeights weights) { }
    }

    private sealed class TextConditioner(ClipTokenizer tokenizer, ClipTextModel textEncoder) : ITextConditioner
    {
        public Tensor Encode(string prompt, ModelWeights weights)
        {
            using var ids = tokenizer.EncodeBatch([prompt]);
            using var output = textEncoder.forward(ids);
            return output.LastHiddenState.clone();
        }
    }
}
