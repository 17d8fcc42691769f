namespace PersonGen.Diffusion.Schedulers;

/// <summary>How the training noise levels β₁…β_T are spaced (diffusers <c>beta_schedule</c>).</summary>
public enum BetaSchedule
{
    /// <summary><c>linear</c>: β = linspace(β_start, β_end, T).</summary>
    Linear,

    /// <summary><c>scaled_linear</c>: β = linspace(√β_start, √β_end, T)², Stable Diffusion's schedule.</summary>
    ScaledLinear,

    /// <summary><c>squaredcos_cap_v2</c>: the cosine schedule of Nichol &amp; Dhariwal (2021), β capped at 0.999.</summary>
    SquaredCosCapV2,
}
