using static TorchSharp.torch;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// A sampling schedule for a fixed number of inference steps, indexed by step position 0…n−1 (never by
/// timestep value). Implementations are immutable, so one schedule can serve many runs and threads.
/// </summary>
public interface IScheduler
{
    /// <summary>The model timesteps of each step, first (noisiest) to last.</summary>
    IReadOnlyList<long> Timesteps { get; }

    /// <summary>Standard deviation of the initial noise x_T relative to N(0, 1).</summary>
    double InitNoiseSigma { get; }

    /// <summary>The UNet input for step <paramref name="stepIndex"/> (a new tensor of the sample's shape).</summary>
    Tensor ScaleModelInput(Tensor sample, int stepIndex);

    /// <summary>
    /// Goes from x_t (<paramref name="sample"/>) to x_{t−1} given the model output at step <paramref name="stepIndex"/>.
    /// <paramref name="eta"/> &gt; 0 adds fresh noise drawn from <paramref name="generator"/> (global generator when null).
    /// </summary>
    SchedulerStepResult Step(int stepIndex, Tensor modelOutput, Tensor sample, double eta = 0, Generator? generator = null);

    /// <summary>ᾱ at the step's timestep.</summary>
    double AlphaCumprod(int stepIndex);

    /// <summary>ᾱ at the timestep the step goes to (the final ᾱ past the last step).</summary>
    double AlphaCumprodPrev(int stepIndex);

    /// <summary>Converts a raw model output (ε, v or x₀ according to the config) into the noise prediction ε.</summary>
    Tensor ToEpsilon(Tensor modelOutput, Tensor sample, int stepIndex);
}
