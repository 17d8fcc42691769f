using static TorchSharp.torch;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// What a DDIM-style fusion step (ProFusion) needs beyond <see cref="IScheduler"/>: ᾱ at the step's timestep and at
/// the one it goes to, and the model output as a noise prediction. Schedules in σ space (Euler, DPM-Solver) lack it.
/// </summary>
public interface IAlphaCumprodSchedule : IScheduler
{
    /// <summary>ᾱ at the step's timestep.</summary>
    double AlphaCumprod(int stepIndex);

    /// <summary>ᾱ at the timestep the step goes to (the final ᾱ past the last step).</summary>
    double AlphaCumprodPrev(int stepIndex);

    /// <summary>Converts a raw model output (ε, v or x₀ according to the config) into the noise prediction ε.</summary>
    Tensor ToEpsilon(Tensor modelOutput, Tensor sample, int stepIndex);
}
