using static TorchSharp.torch;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// The Euler sampler of Karras et al. (2022), Algorithm 2 without churn, in σ space, numerically as diffusers'
/// <c>EulerDiscreteScheduler</c> (float32 σ; fractional timesteps for linspace and Karras spacing). It keeps no
/// history. Notation (diffusers → paper): sigma → σ_i, pred_original_sample → D(x; σ), derivative → d_i, dt → σ_{i+1} − σ_i.
/// </summary>
public sealed class EulerSchedule : IScheduler
{
    private readonly EulerConfig _config;
    private readonly double[] _timesteps;
    private readonly float[] _sigmas;

    /// <exception cref="InvalidInputException">steps is not in 1…num_train_timesteps.</exception>
    public EulerSchedule(EulerConfig config, int steps)
    {
        config.Validate();
        int train = config.Betas.NumTrainTimesteps;
        InferenceTimesteps.CheckSteps(steps, train);
        _config = config;
        var trainingSigmas = SigmaSchedule.TrainingSigmas(config.Betas);
        var timesteps = InferenceTimesteps.Spaced(config.TimestepSpacing, train, steps, config.StepsOffset, roundLinspace: false);
        var sigmas = timesteps.Select(t => SigmaSchedule.Interpolate(trainingSigmas, t)).ToArray();
        if (config.UseKarrasSigmas)
        {
            sigmas = SigmaSchedule.Karras(config.SigmaMin ?? sigmas[^1], config.SigmaMax ?? sigmas[0], steps);
            var logSigmas = SigmaSchedule.Log(trainingSigmas);
            timesteps = sigmas.Select(s => (double)(float)SigmaSchedule.SigmaToTimestep(s, logSigmas)).ToArray();
        }
        double last = config.FinalSigmasType == FinalSigmasType.SigmaMin ? trainingSigmas[0] : 0.0;
        _timesteps = timesteps;
        _sigmas = [.. sigmas.Select(s => (float)s), (float)last];
        float max = _sigmas.Max();
        // diffusers: σ_max for linspace and trailing spacing, else √(σ_max² + 1).
        InitNoiseSigma = config.TimestepSpacing is TimestepSpacing.Linspace or TimestepSpacing.Trailing ? max : MathF.Sqrt(max * max + 1f);
    }

    public IReadOnlyList<double> Timesteps => _timesteps;

    /// <summary>σ of each step plus the final one (n + 1 values), float32 widened exactly.</summary>
    public IReadOnlyList<float> Sigmas => _sigmas;

    public double InitNoiseSigma { get; }

    /// <summary>x / √(σ² + 1): the denoiser sees unit-variance input, as in training.</summary>
    public Tensor ScaleModelInput(Tensor sample, int stepIndex)
    {
        float sigma = _sigmas[CheckStep(stepIndex)];
        return sample / MathF.Sqrt(sigma * sigma + 1f);
    }

    /// <summary>One Euler step x_{i+1} = x_i + d_i·(σ_{i+1} − σ_i) with d_i = (x_i − D(x_i; σ_i)) / σ_i (Algorithm 2, lines 5–7).</summary>
    public SchedulerStepResult Step(int stepIndex, Tensor modelOutput, Tensor sample)
    {
        float sigma = _sigmas[CheckStep(stepIndex)], next = _sigmas[stepIndex + 1];
        using var scope = NewDisposeScope();
        // Upcast as diffusers does, so half-precision runs step in float32.
        var x = sample.to_type(ScalarType.Float32);
        var predOriginal = _config.PredictionType == PredictionType.VPrediction
            ? modelOutput * (-sigma / MathF.Sqrt(sigma * sigma + 1f)) + x / (sigma * sigma + 1f)
            : x - modelOutput * sigma;
        var derivative = (x - predOriginal) / sigma;
        var prevSample = (x + derivative * (next - sigma)).to_type(modelOutput.dtype);
        return new SchedulerStepResult(prevSample.MoveToOuterDisposeScope(), predOriginal.MoveToOuterDisposeScope());
    }

    private int CheckStep(int stepIndex) =>
        stepIndex >= 0 && stepIndex < _timesteps.Length
            ? stepIndex
            : throw new ArgumentOutOfRangeException(nameof(stepIndex), stepIndex, $"step index must be in 0…{_timesteps.Length - 1}");
}
