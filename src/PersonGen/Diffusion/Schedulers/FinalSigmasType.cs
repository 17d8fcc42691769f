namespace PersonGen.Diffusion.Schedulers;

/// <summary>The noise level past the last step of a σ schedule (diffusers <c>final_sigmas_type</c>).</summary>
public enum FinalSigmasType
{
    /// <summary><c>zero</c>: the last step lands on the clean sample, σ = 0.</summary>
    Zero,

    /// <summary><c>sigma_min</c>: the last step lands on σ of training timestep 0.</summary>
    SigmaMin,
}
