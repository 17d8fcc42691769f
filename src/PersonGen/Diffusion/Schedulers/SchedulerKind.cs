namespace PersonGen.Diffusion.Schedulers;

/// <summary>The sampling schedulers implemented.</summary>
public enum SchedulerKind
{
    /// <summary><c>ddim</c>: diffusers' DDIMScheduler (η = 0), the default for SD-1/2.</summary>
    Ddim,

    /// <summary><c>euler</c>: diffusers' EulerDiscreteScheduler.</summary>
    Euler,

    /// <summary><c>dpmpp-2m</c>: diffusers' DPMSolverMultistepScheduler, dpmsolver++ of order 2.</summary>
    DpmPlusPlus2M,
}
