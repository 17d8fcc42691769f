using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// DDIM (Song et al. 2021) for a fixed number of steps, numerically as diffusers' <c>DDIMScheduler</c>: ᾱ values are
/// float32 like diffusers' tensors, and every per-step scalar is computed in float32 arithmetic, so steps match
/// diffusers bitwise. Indexed by step position; immutable, so it keeps no history.
/// </summary>
public sealed class DdimSchedule : IAlphaCumprodSchedule
{
    private readonly DdimConfig _config;
    private readonly long[] _timesteps;
    private readonly double[] _modelTimesteps;
    private readonly float[] _alphaCumprod;
    private readonly float[] _alphaCumprodPrev;

    /// <exception cref="InvalidInputException">steps is not in 1…num_train_timesteps.</exception>
    public DdimSchedule(DdimConfig config, int steps)
    {
        config.Validate();
        int trainSteps = config.NumTrainTimesteps;
        InferenceTimesteps.CheckSteps(steps, trainSteps);
        _config = config;
        Noise = new NoiseSchedule(config);
        _timesteps = InferenceTimesteps.Spaced(config.TimestepSpacing, trainSteps, steps, config.StepsOffset, roundLinspace: true)
            .Select(t => (long)t).ToArray();
        _modelTimesteps = Array.ConvertAll(_timesteps, t => (double)t);
        // ᾱ past the last step: 1 or ᾱ₀ (set_alpha_to_one).
        float final = config.SetAlphaToOne ? 1f : Noise.AlphaCumprodSingle(0);
        int stride = trainSteps / steps;
        _alphaCumprod = _timesteps.Select(t => Noise.AlphaCumprodSingle(t)).ToArray();
        _alphaCumprodPrev = _timesteps.Select(t => t - stride >= 0 ? Noise.AlphaCumprodSingle(t - stride) : final).ToArray();
    }

    /// <summary>The training schedule (β, ᾱ) this DDIM schedule samples from.</summary>
    public NoiseSchedule Noise { get; }

    /// <summary>The integer model timesteps of each step, first (noisiest) to last.</summary>
    public IReadOnlyList<long> Timesteps => _timesteps;

    IReadOnlyList<double> IScheduler.Timesteps => _modelTimesteps;

    public double InitNoiseSigma => 1.0;

    /// <summary>DDIM does not scale its input: returns an alias of <paramref name="sample"/>.</summary>
    public Tensor ScaleModelInput(Tensor sample, int stepIndex)
    {
        CheckStep(stepIndex);
        return sample.alias();
    }

    public double AlphaCumprod(int stepIndex) => _alphaCumprod[CheckStep(stepIndex)];

    public double AlphaCumprodPrev(int stepIndex) => _alphaCumprodPrev[CheckStep(stepIndex)];

    /// <summary>
    /// Eq. 12 of the DDIM paper, with σ_t from Eq. 16 scaled by η. Notation (diffusers → paper):
    /// alpha_prod_t → α_t, alpha_prod_t_prev → α_{t−1}, pred_original_sample → "predicted x₀",
    /// pred_sample_direction → "direction pointing to x_t", std_dev_t → σ_t.
    /// </summary>
    /// <remarks><paramref name="eta"/> &gt; 0 adds fresh noise drawn from <paramref name="generator"/> (global generator when null).</remarks>
    public SchedulerStepResult Step(int stepIndex, Tensor modelOutput, Tensor sample, double eta = 0, Generator? generator = null)
    {
        CheckStep(stepIndex);
        if (eta < 0) throw new InvalidInputException($"eta = {eta} must be ≥ 0");
        using var scope = NewDisposeScope();
        float alpha = _alphaCumprod[stepIndex], alphaPrev = _alphaCumprodPrev[stepIndex];
        float beta = 1f - alpha, betaPrev = 1f - alphaPrev;
        var (predOriginal, predEpsilon) = Predictions(modelOutput, sample, alpha, beta);
        if (_config.ClipSample) predOriginal = predOriginal.clamp(-_config.ClipSampleRange, _config.ClipSampleRange);

        // σ_t = η·√((1−α_{t−1})/(1−α_t)·(1 − α_t/α_{t−1}))   (Eq. 16)
        float variance = betaPrev / beta * (1f - alpha / alphaPrev);
        float stdDev = (float)eta * MathF.Sqrt(variance);
        var direction = predEpsilon * MathF.Sqrt(1f - alphaPrev - stdDev * stdDev);
        var prevSample = predOriginal * MathF.Sqrt(alphaPrev) + direction;
        if (eta > 0)
        {
            var noise = randn(modelOutput.shape, dtype: modelOutput.dtype, device: generator?.device ?? modelOutput.device, generator: generator)
                .to(modelOutput.device);
            prevSample = prevSample + noise * stdDev;
        }
        return new SchedulerStepResult(prevSample.MoveToOuterDisposeScope(), predOriginal.MoveToOuterDisposeScope());
    }

    SchedulerStepResult IScheduler.Step(int stepIndex, Tensor modelOutput, Tensor sample) => Step(stepIndex, modelOutput, sample);

    public Tensor ToEpsilon(Tensor modelOutput, Tensor sample, int stepIndex)
    {
        float alpha = _alphaCumprod[CheckStep(stepIndex)];
        using var scope = NewDisposeScope();
        var (_, epsilon) = Predictions(modelOutput, sample, alpha, 1f - alpha);
        return epsilon.MoveToOuterDisposeScope();
    }

    /// <summary>(x̂₀, ε̂) from the raw model output; the float32 coefficients keep diffusers' operation order.</summary>
    private (Tensor PredOriginal, Tensor PredEpsilon) Predictions(Tensor modelOutput, Tensor sample, float alpha, float beta)
    {
        float sqrtAlpha = MathF.Sqrt(alpha), sqrtBeta = MathF.Sqrt(beta);
        return _config.PredictionType switch
        {
            PredictionType.Epsilon => ((sample - modelOutput * sqrtBeta) / sqrtAlpha, modelOutput.alias()),
            PredictionType.Sample => (modelOutput.alias(), (sample - modelOutput * sqrtAlpha) / sqrtBeta),
            PredictionType.VPrediction => (sample * sqrtAlpha - modelOutput * sqrtBeta, modelOutput * sqrtAlpha + sample * sqrtBeta),
            _ => throw new InvalidOperationException($"prediction type {_config.PredictionType}"),
        };
    }

    private int CheckStep(int stepIndex) =>
        stepIndex >= 0 && stepIndex < _timesteps.Length
            ? stepIndex
            : throw new ArgumentOutOfRangeException(nameof(stepIndex), stepIndex, $"step index must be in 0…{_timesteps.Length - 1}");
}
