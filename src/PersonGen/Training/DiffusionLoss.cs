using PersonGen.Diffusion.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Training;

/// <summary>
/// The denoising loss of DDPM training: draw t ~ U{0..T−1} and ε ~ N(0, I), form x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε,
/// and take the MSE between the prediction and ε (or v). A mask [B,1,H,W] restricts the mean to its support:
/// Σ(loss·mask)/Σmask. Betas are SD's scaled-linear schedule (√β linear from √β₀ to √β₁).
/// </summary>
public sealed class DiffusionLoss : IDisposable
{
    private readonly Tensor _alphasCumprod;

    /// <summary>The loss for a scaled-linear schedule (SD's by default), with the schedulers' bit-exact betas.</summary>
    /// <exception cref="InvalidInputException">The prediction type is x₀, or the beta settings are out of range.</exception>
    public DiffusionLoss(PredictionType prediction = PredictionType.Epsilon, int trainTimesteps = 1000,
        double betaStart = 0.00085, double betaEnd = 0.012)
        : this(prediction, new BetaConfig { NumTrainTimesteps = trainTimesteps, BetaStart = betaStart, BetaEnd = betaEnd, BetaSchedule = BetaSchedule.ScaledLinear })
    {
    }

    private DiffusionLoss(PredictionType prediction, BetaConfig betas)
    {
        if (prediction is not (PredictionType.Epsilon or PredictionType.VPrediction))
            throw new InvalidInputException($"the model's scheduler predicts '{prediction}': training supports epsilon or v_prediction models");
        Prediction = prediction;
        TrainTimesteps = betas.NumTrainTimesteps;
        _alphasCumprod = new NoiseSchedule(betas).AlphasCumprod();
    }

    /// <summary>The loss for a model's own noise schedule (its betas, offsets and ε/v prediction type).</summary>
    /// <exception cref="InvalidInputException">The model predicts x₀ (not trainable here).</exception>
    public static DiffusionLoss ForScheduler(DdimConfig scheduler)
    {
        scheduler.Validate();
        return new(scheduler.PredictionType, scheduler.Betas);
    }

    public PredictionType Prediction { get; }
    public int TrainTimesteps { get; }

    /// <summary>ᾱ_t for t = 0..T−1 [T] (float32).</summary>
    public Tensor AlphasCumprod => _alphasCumprod;

    /// <summary>The scalar loss for clean latents [B,C,H,W] and text embeddings [B,L,D]; draws t and ε from <paramref name="generator"/>.</summary>
    public Tensor Compute(NoisePredictor predict, Tensor latents, Tensor textEmbeddings, Generator generator, Tensor? mask = null)
    {
        using var scope = torch.NewDisposeScope();
        long batch = latents.shape[0];
        var noise = torch.randn(latents.shape, dtype: ScalarType.Float32, generator: generator);
        var timesteps = torch.randint(0, TrainTimesteps, [batch], dtype: ScalarType.Int64, generator: generator);
        return Compute(predict, latents, textEmbeddings, noise, timesteps, mask).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The scalar loss with given noise [B,C,H,W] and timesteps [B]. Noising, target and loss are float32; the
    /// model sees the noisy latents in the latents' dtype (bf16 latents: mixed-precision training).
    /// </summary>
    public Tensor Compute(NoisePredictor predict, Tensor latents, Tensor textEmbeddings, Tensor noise, Tensor timesteps, Tensor? mask = null)
    {
        using var scope = torch.NewDisposeScope();
        var alphaBar = _alphasCumprod.index_select(0, timesteps).reshape(-1, 1, 1, 1);
        var signal = alphaBar.sqrt();
        var sigma = (1 - alphaBar).sqrt();
        var cleanLatents = latents.to_type(ScalarType.Float32);
        var noise32 = noise.to_type(ScalarType.Float32);
        var noisy = signal * cleanLatents + sigma * noise32;
        var target = Prediction == PredictionType.Epsilon ? noise32 : signal * noise32 - sigma * cleanLatents;
        var prediction = predict(noisy.to_type(latents.dtype), timesteps, textEmbeddings);
        var error = (prediction.to_type(ScalarType.Float32) - target).square();
        Tensor loss;
        if (mask is null) loss = error.mean();
        else
        {
            var weights = mask.to_type(ScalarType.Float32).expand_as(error);
            loss = (error * weights).sum() / weights.sum().clamp_min(1e-8);
        }
        return loss.MoveToOuterDisposeScope();
    }

    public void Dispose() => _alphasCumprod.Dispose();
}
