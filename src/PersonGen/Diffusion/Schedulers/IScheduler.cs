using static TorchSharp.torch;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// The stepper of one run for a fixed number of inference steps, indexed by step position 0…n−1 (never by timestep
/// value). It may keep history between steps (DPM-Solver++ 2M keeps the previous x̂₀), so each trajectory of each run
/// gets its own from <see cref="ISchedulerConfig.CreateSchedule"/> and steps it in order.
/// </summary>
public interface IScheduler
{
    /// <summary>The model timesteps of each step, first (noisiest) to last; fractional for some schedules (Euler linspace, Karras).</summary>
    IReadOnlyList<double> Timesteps { get; }

    /// <summary>Standard deviation of the initial noise x_T relative to N(0, 1): x_T = draw · InitNoiseSigma.</summary>
    double InitNoiseSigma { get; }

    /// <summary>The denoiser input for step <paramref name="stepIndex"/> (a new tensor of the sample's shape).</summary>
    Tensor ScaleModelInput(Tensor sample, int stepIndex);

    /// <summary>Goes from the sample at step <paramref name="stepIndex"/> to the next one, given the (guided) model output.</summary>
    SchedulerStepResult Step(int stepIndex, Tensor modelOutput, Tensor sample);
}
