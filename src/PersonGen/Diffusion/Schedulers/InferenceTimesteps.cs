namespace PersonGen.Diffusion.Schedulers;

/// <summary>diffusers' <c>set_timesteps</c> spacings (Table 2 of arXiv 2305.08891), including numpy's float arithmetic.</summary>
internal static class InferenceTimesteps
{
    /// <summary>
    /// <paramref name="steps"/> timesteps, noisiest first. Linspace values are rounded for DDIM and kept as float32
    /// (np.linspace(…, dtype=float32)) for Euler, as diffusers does.
    /// </summary>
    public static double[] Spaced(TimestepSpacing spacing, int train, int steps, int stepsOffset, bool roundLinspace)
    {
        switch (spacing)
        {
            case TimestepSpacing.Leading:
                {
                    int ratio = train / steps;
                    return Enumerable.Range(0, steps).Reverse().Select(i => (double)((long)i * ratio + stepsOffset)).ToArray();
                }
            case TimestepSpacing.Trailing:
                {
                    // np.round(np.arange(T, 0, -T/n)) − 1; arange's length is ceil(T / (T/n)), as numpy computes it.
                    double ratio = (double)train / steps;
                    int count = (int)Math.Ceiling((0.0 - train) / -ratio);
                    return Enumerable.Range(0, count).Select(i => Math.Round(train + i * -ratio, MidpointRounding.ToEven) - 1).ToArray();
                }
            case TimestepSpacing.Linspace:
                {
                    // np.linspace(0, T − 1, n)[::-1]; numpy pins the last value to T − 1.
                    double step = steps > 1 ? (train - 1.0) / (steps - 1) : 0;
                    var values = Enumerable.Range(0, steps)
                        .Select(i => i == steps - 1 && steps > 1 ? train - 1.0 : i * step)
                        .Select(v => roundLinspace ? Math.Round(v, MidpointRounding.ToEven) : (float)v);
                    return values.Reverse().ToArray();
                }
            default:
                throw new InvalidOperationException($"timestep spacing {spacing}");
        }
    }

    /// <exception cref="InvalidInputException">steps is not in 1…num_train_timesteps.</exception>
    public static void CheckSteps(int steps, int trainSteps)
    {
        if (steps < 1 || steps > trainSteps)
            throw new InvalidInputException($"steps = {steps} is outside 1…{trainSteps} (the scheduler's num_train_timesteps)");
    }
}
