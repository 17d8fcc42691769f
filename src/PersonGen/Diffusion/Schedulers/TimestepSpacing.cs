namespace PersonGen.Diffusion.Schedulers;

/// <summary>How inference timesteps are picked among the training ones (diffusers <c>timestep_spacing</c>, Table 2 of arXiv 2305.08891).</summary>
public enum TimestepSpacing
{
    /// <summary><c>leading</c>: 0, r, 2r, … (r = T div n) reversed, plus <c>steps_offset</c>.</summary>
    Leading,

    /// <summary><c>trailing</c>: round(T, T − T/n, …) − 1, so the first step is T − 1.</summary>
    Trailing,

    /// <summary><c>linspace</c>: round(linspace(0, T − 1, n)) reversed.</summary>
    Linspace,
}
