using static TorchSharp.torch;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// DPM-Solver++ multistep (Lu et al. 2022, arXiv 2211.01095, Algorithm 2 for order 2), numerically as diffusers'
/// <c>DPMSolverMultistepScheduler</c> with <c>algorithm_type</c> dpmsolver++ and the midpoint solver type. The stepper
/// keeps the previous x̂₀ prediction, so one instance serves one trajectory, stepped in order. Notation (diffusers →
/// paper): alpha_t → α_t, sigma_t → σ_t, lambda_t → λ_t = log(α_t/σ_t), h → h_i, r0 → r_i, D0/D1 → D_i.
/// </summary>
public sealed class DpmSolverSchedule : IScheduler, IDisposable
{
    private readonly DpmSolverConfig _config;
    private readonly double[] _timesteps;
    private readonly float[] _sigmas;
    private Tensor? _previousOriginal;
    private int _nextStep;

    /// <exception cref="InvalidInputException">steps is not in 1…num_train_timesteps.</exception>
    public DpmSolverSchedule(DpmSolverConfig config, int steps)
    {
        config.Validate();
        int train = config.Betas.NumTrainTimesteps;
        InferenceTimesteps.CheckSteps(steps, train);
        _config = config;
        var trainingSigmas = SigmaSchedule.TrainingSigmas(config.Betas);
        // diffusers spaces n + 1 points and drops the last for linspace and leading; trailing is DDIM's.
        var timesteps = config.TimestepSpacing == TimestepSpacing.Trailing
            ? InferenceTimesteps.Spaced(TimestepSpacing.Trailing, train, steps, 0, roundLinspace: true)
            : InferenceTimesteps.Spaced(config.TimestepSpacing, train, steps + 1, config.StepsOffset, roundLinspace: true)[..steps];
        double[] sigmas;
        if (config.UseKarrasSigmas)
        {
            sigmas = SigmaSchedule.Karras(trainingSigmas[0], trainingSigmas[^1], steps);
            var logSigmas = SigmaSchedule.Log(trainingSigmas);
            timesteps = sigmas.Select(s => Math.Round(SigmaSchedule.SigmaToTimestep(s, logSigmas), MidpointRounding.ToEven)).ToArray();
        }
        else
        {
            sigmas = timesteps.Select(t => SigmaSchedule.Interpolate(trainingSigmas, t)).ToArray();
        }
        double last = config.FinalSigmasType == FinalSigmasType.SigmaMin ? trainingSigmas[0] : 0.0;
        _timesteps = timesteps;
        _sigmas = [.. sigmas.Select(s => (float)s), (float)last];
    }

    public IReadOnlyList<double> Timesteps => _timesteps;

    /// <summary>σ of each step plus the final one (n + 1 values), float32 widened exactly.</summary>
    public IReadOnlyList<float> Sigmas => _sigmas;

    /// <summary>DPM-Solver works on the variance-preserving sample: x_T is a unit draw.</summary>
    public double InitNoiseSigma => 1.0;

    /// <summary>DPM-Solver does not scale its input: returns an alias of <paramref name="sample"/>.</summary>
    public Tensor ScaleModelInput(Tensor sample, int stepIndex)
    {
        CheckStep(stepIndex);
        return sample.alias();
    }

    /// <summary>
    /// First order (Eq. 5 of DPM-Solver++, a DDIM step in λ) on the first step and, as diffusers' <c>lower_order_final</c>
    /// decides, the last; otherwise the 2M update x_t = (σ_t/σ_s)·x − α_t(e^{−h} − 1)·(D₀ + ½·D₁) with D₁ = (D₀ − D₋₁)/r.
    /// </summary>
    /// <exception cref="InvalidOperationException">Steps are not taken in order 0, 1, 2, … (the history would be wrong).</exception>
    public SchedulerStepResult Step(int stepIndex, Tensor modelOutput, Tensor sample)
    {
        CheckStep(stepIndex);
        if (stepIndex != _nextStep)
            throw new InvalidOperationException($"DPM-Solver steps must be taken in order: expected step {_nextStep}, got {stepIndex}");
        int count = _timesteps.Length;
        bool last = stepIndex == count - 1;
        bool lowerOrderFinal = last && (_config.EulerAtFinal || (_config.LowerOrderFinal && count < 15) || _config.FinalSigmasType == FinalSigmasType.Zero);
        bool firstOrder = _config.SolverOrder == 1 || _previousOriginal is null || lowerOrderFinal;
        using var scope = NewDisposeScope();
        var x = sample.to_type(ScalarType.Float32);
        var (alphaS, sigmaS) = AlphaSigma(_sigmas[stepIndex]);
        var original = PredictOriginal(modelOutput, sample, alphaS, sigmaS);
        var (alphaT, sigmaT) = AlphaSigma(_sigmas[stepIndex + 1]);
        float lambdaT = MathF.Log(alphaT) - MathF.Log(sigmaT), lambdaS = MathF.Log(alphaS) - MathF.Log(sigmaS);
        float h = lambdaT - lambdaS;
        float decay = alphaT * (MathF.Exp(-h) - 1f);
        Tensor prevSample;
        if (firstOrder)
        {
            prevSample = x * (sigmaT / sigmaS) - original * decay;
        }
        else
        {
            var (alphaPrev, sigmaPrev) = AlphaSigma(_sigmas[stepIndex - 1]);
            float lambdaPrev = MathF.Log(alphaPrev) - MathF.Log(sigmaPrev);
            float r = (lambdaS - lambdaPrev) / h;
            var d1 = (original - _previousOriginal!) * (1f / r);
            prevSample = x * (sigmaT / sigmaS) - original * decay - d1 * (0.5f * decay);
        }
        _previousOriginal?.Dispose();
        _previousOriginal = last ? null : original.detach().clone().DetachFromDisposeScope();
        _nextStep++;
        return new SchedulerStepResult(prevSample.to_type(modelOutput.dtype).MoveToOuterDisposeScope(), original.MoveToOuterDisposeScope());
    }

    /// <summary>Releases the kept x̂₀ of a run that stopped before its last step.</summary>
    public void Dispose()
    {
        _previousOriginal?.Dispose();
        _previousOriginal = null;
    }

    /// <summary>α_t = 1/√(σ² + 1) and σ_t = σ·α_t of the variance-preserving sample at noise level σ.</summary>
    private static (float Alpha, float Sigma) AlphaSigma(float sigma)
    {
        float alpha = 1f / MathF.Sqrt(sigma * sigma + 1f);
        return (alpha, sigma * alpha);
    }

    /// <summary>x̂₀ from the model output (diffusers' <c>convert_model_output</c> for dpmsolver++).</summary>
    private Tensor PredictOriginal(Tensor modelOutput, Tensor sample, float alpha, float sigma) => _config.PredictionType switch
    {
        PredictionType.Epsilon => (sample - modelOutput * sigma) / alpha,
        PredictionType.Sample => modelOutput.alias(),
        PredictionType.VPrediction => sample * alpha - modelOutput * sigma,
        _ => throw new InvalidOperationException($"prediction type {_config.PredictionType}"),
    };

    private int CheckStep(int stepIndex) =>
        stepIndex >= 0 && stepIndex < _timesteps.Length
            ? stepIndex
            : throw new ArgumentOutOfRangeException(nameof(stepIndex), stepIndex, $"step index must be in 0…{_timesteps.Length - 1}");
}
