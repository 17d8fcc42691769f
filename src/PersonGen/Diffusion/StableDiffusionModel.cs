using System.Text.Json;
using PersonGen.Diffusion.Schedulers;
using PersonGen.IO;
using PersonGen.Models;
using PersonGen.Models.Clip;
using PersonGen.Models.Unet;
using PersonGen.Models.Vae;
using PersonGen.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Diffusion;

/// <summary>
/// A loaded Stable Diffusion model: tokenizer, CLIP text encoder, UNet, VAE (absent for pixel-space models) and the
/// folder's scheduler settings, on one device and dtype. A fine-tuned concept is applied in place to the UNet and text
/// encoder and exposed as <see cref="Concept"/>, so the original weights can be switched back in.
/// </summary>
public sealed class StableDiffusionModel : IDisposable
{
    private readonly JsonElement _schedulerJson;

    private StableDiffusionModel(string source, ClipTokenizer tokenizer, ClipTextModel textEncoder, UNet2DConditionModel unet,
        AutoencoderKL? vae, DdimConfig scheduler, JsonElement schedulerJson, string schedulerClass, ComputeOptions compute)
    {
        _schedulerJson = schedulerJson;
        SchedulerClass = schedulerClass;
        Source = source;
        Tokenizer = tokenizer;
        TextEncoder = textEncoder;
        Unet = unet;
        Vae = vae;
        Scheduler = scheduler;
        Compute = compute;
    }

    /// <summary>The folder (or hub id) the model was loaded from.</summary>
    public string Source { get; }

    public ClipTokenizer Tokenizer { get; }

    public ClipTextModel TextEncoder { get; }

    public UNet2DConditionModel Unet { get; }

    /// <summary>The autoencoder; null for a pixel-space model, whose "latents" are images in [-1, 1].</summary>
    public AutoencoderKL? Vae { get; }

    /// <summary>The folder's scheduler settings read as DDIM (betas, offsets, prediction type).</summary>
    public DdimConfig Scheduler { get; }

    public ComputeOptions Compute { get; }

    /// <summary>The scheduler class the folder names (e.g. PNDMScheduler); sampling uses DDIM with its settings unless another scheduler is chosen.</summary>
    public string SchedulerClass { get; }

    /// <summary>The applied concept, if any; switching it off gives the base model's weights.</summary>
    public IWeightDelta? Concept { get; set; }

    /// <summary>Latent channels and the spatial factor between image and latents.</summary>
    public (long Channels, int Factor) LatentFormat => (Unet.Config.InChannels, Vae?.Config.DownscaleFactor ?? 1);

    /// <summary>The native image size (UNet sample size × VAE factor).</summary>
    public int DefaultImageSize => (Unet.Config.SampleSize ?? 64) * LatentFormat.Factor;

    /// <summary>Loads every component of a diffusers-layout folder (or a cached hub id).</summary>
    /// <exception cref="ModelLoadException">A component is missing or does not match its weights.</exception>
    public static StableDiffusionModel Load(string pathOrRepoId, ComputeOptions compute)
    {
        var folder = ModelFolder.Open(pathOrRepoId);
        var tokenizer = ClipTokenizer.FromFolder(folder.ComponentDirectory("tokenizer"));
        var textEncoder = ClipTextModel.Load(folder.ComponentDirectory("text_encoder"), compute.DType, compute.Device);
        var unet = UNet2DConditionModel.Load(folder.ComponentDirectory("unet"), compute.DType, compute.Device);
        var vae = folder.Has("vae") ? AutoencoderKL.Load(folder.ComponentDirectory("vae"), compute.DType, compute.Device) : null;
        var scheduler = DdimConfig.Load(folder.ConfigPath("scheduler"));
        var schedulerJson = ConfigJson.ReadFile(folder.ConfigPath("scheduler"));
        string schedulerClass = folder.Components.TryGetValue("scheduler", out var info) ? info.ClassName : "DDIMScheduler";
        return new StableDiffusionModel(folder.Root, tokenizer, textEncoder, unet, vae, scheduler, schedulerJson, schedulerClass, compute);
    }

    /// <summary>Assembles a model from components already built (benchmarks, models trained in process).</summary>
    public static StableDiffusionModel FromComponents(ClipTokenizer tokenizer, ClipTextModel textEncoder, UNet2DConditionModel unet,
        AutoencoderKL? vae, DdimConfig scheduler, ComputeOptions compute, string source = "(in memory)")
    {
        textEncoder.eval();
        unet.eval();
        return new StableDiffusionModel(source, tokenizer, textEncoder, unet, vae, scheduler, scheduler.ToJson(), "DDIMScheduler", compute);
    }

    /// <summary>The config of the chosen scheduler for this model (see <see cref="SchedulerChoice.Configure"/>).</summary>
    /// <exception cref="ModelLoadException">The folder's scheduler config holds a value the chosen scheduler does not implement.</exception>
    public ISchedulerConfig SchedulerFor(SchedulerChoice choice)
    {
        try
        {
            return choice.Configure(Scheduler, _schedulerJson);
        }
        catch (ModelLoadException e)
        {
            throw new ModelLoadException($"{Source}: scheduler config read as {choice.Name}: {e.Message}", e);
        }
    }

    /// <summary>Text encoder hidden states for one prompt, (1, 77, D), with fine-tuned or original weights.</summary>
    public Tensor EncodePrompt(string prompt, ModelWeights weights = ModelWeights.FineTuned)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Concept?.SetEnabled(TextEncoderComponent, weights == ModelWeights.FineTuned);
        try
        {
            var ids = tensor(Tokenizer.Encode(prompt).Select(id => (long)id).ToArray(), [1, Tokenizer.MaxLength], device: Compute.Device);
            using var output = TextEncoder.forward(ids);
            return output.LastHiddenState.clone().MoveToOuterDisposeScope();
        }
        finally
        {
            Concept?.SetEnabled(TextEncoderComponent, true);
        }
    }

    /// <summary>Token positions (in the padded sequence) of <paramref name="word"/>'s tokens inside <paramref name="prompt"/>.</summary>
    /// <exception cref="InvalidInputException">The word does not occur in the prompt's tokens.</exception>
    public IReadOnlyList<int> TokenPositions(string prompt, string word)
    {
        var promptIds = Tokenizer.Encode(prompt);
        var wordIds = Tokenizer.EncodeUnpadded(word).Skip(1).SkipLast(1).ToArray();
        for (int start = 1; wordIds.Length > 0 && start + wordIds.Length <= promptIds.Length; start++)
        {
            if (promptIds.AsSpan(start, wordIds.Length).SequenceEqual(wordIds))
                return Enumerable.Range(start, wordIds.Length).ToArray();
        }
        throw new InvalidInputException($"the placeholder '{word}' does not appear among the tokens of \"{prompt}\"; check `placeholder`");
    }

    /// <summary>Decodes final latents to images in [-1, 1] (N, 3, H, W): VAE decode of latents / scaling factor.</summary>
    public Tensor DecodeLatents(Tensor latents)
    {
        using var noGrad = no_grad();
        if (Vae is null) return latents.clone();
        using var scope = NewDisposeScope();
        return Vae.Decode(latents / Vae.ScalingFactor).MoveToOuterDisposeScope();
    }

    /// <summary>The denoiser view of the UNet the loop calls.</summary>
    public IDenoiser AsDenoiser() => new UnetDenoiser(this);

    /// <summary>The text-conditioning view the loop calls.</summary>
    public ITextConditioner AsConditioner() => new PromptConditioner(this);

    public void Dispose()
    {
        TextEncoder.Dispose();
        Unet.Dispose();
        Vae?.Dispose();
    }

    private const string UnetComponent = "unet";
    private const string TextEncoderComponent = "text_encoder";

    private sealed class UnetDenoiser(StableDiffusionModel model) : IDenoiser
    {
        public Tensor Predict(Tensor sample, double timestep, Tensor encoderHiddenStates, Models.Attention.IAttentionHook? hook)
        {
            using var noGrad = no_grad();
            model.Unet.AttentionHook = hook;
            try
            {
                // float32, as diffusers passes schedulers' timesteps; integer timesteps are exact in it.
                using var t = tensor((float)timestep, dtype: ScalarType.Float32, device: sample.device);
                return model.Unet.forward(sample, t, encoderHiddenStates);
            }
            finally
            {
                model.Unet.AttentionHook = null;
            }
        }

        public void UseWeights(ModelWeights weights) => model.Concept?.SetEnabled(UnetComponent, weights == ModelWeights.FineTuned);
    }

    private sealed class PromptConditioner(StableDiffusionModel model) : ITextConditioner
    {
        public Tensor Encode(string prompt, ModelWeights weights) => model.EncodePrompt(prompt, weights);
    }
}
