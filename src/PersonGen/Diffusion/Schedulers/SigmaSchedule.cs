namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// The σ view of the training schedule shared by Euler and DPM-Solver (k-diffusion's parameterisation,
/// x = x₀ + σ·ε with σ_t = √((1−ᾱ_t)/ᾱ_t)), with numpy's interpolation and Karras et al. (2022) spacing.
/// </summary>
internal static class SigmaSchedule
{
    /// <summary>σ per training timestep, ascending in t, in float32 as diffusers' torch arithmetic gives it.</summary>
    public static float[] TrainingSigmas(BetaConfig betas)
    {
        var noise = new NoiseSchedule(betas);
        var sigmas = new float[noise.TrainTimesteps];
        for (int t = 0; t < sigmas.Length; t++)
        {
            float alpha = noise.AlphaCumprodSingle(t);
            // Zero terminal SNR makes ᾱ_T = 0; diffusers sets it to 2⁻²⁴ so σ_T stays finite.
            if (betas.RescaleBetasZeroSnr && t == sigmas.Length - 1) alpha = MathF.Pow(2, -24);
            sigmas[t] = MathF.Sqrt((1f - alpha) / alpha);
        }
        return sigmas;
    }

    /// <summary>np.interp(t, arange(len), sigmas) for a timestep inside the training range.</summary>
    public static double Interpolate(float[] sigmas, double t)
    {
        if (t <= 0) return sigmas[0];
        if (t >= sigmas.Length - 1) return sigmas[^1];
        int j = (int)Math.Floor(t);
        double slope = (double)sigmas[j + 1] - sigmas[j];
        return slope * (t - j) + sigmas[j];
    }

    /// <summary>Eq. 5 of Karras et al. (2022) with ρ = 7: n noise levels from σ_max down to σ_min.</summary>
    public static double[] Karras(double sigmaMin, double sigmaMax, int n)
    {
        const double Rho = 7.0;
        double minInvRho = Math.Pow(sigmaMin, 1 / Rho), maxInvRho = Math.Pow(sigmaMax, 1 / Rho);
        return Enumerable.Range(0, n)
            .Select(i => n > 1 ? (i == n - 1 ? 1.0 : (double)i / (n - 1)) : 0.0)
            .Select(ramp => Math.Pow(maxInvRho + ramp * (minInvRho - maxInvRho), Rho))
            .ToArray();
    }

    /// <summary>The fractional training timestep whose σ is <paramref name="sigma"/>, interpolating log σ linearly (diffusers' <c>_sigma_to_t</c>).</summary>
    public static double SigmaToTimestep(double sigma, float[] logSigmas)
    {
        double logSigma = Math.Log(Math.Max(sigma, 1e-10));
        int low = 0;
        for (int i = 0; i < logSigmas.Length; i++)
            if (logSigma - logSigmas[i] >= 0) low = i;
        low = Math.Min(low, logSigmas.Length - 2);
        double lowLog = logSigmas[low], highLog = logSigmas[low + 1];
        double w = Math.Clamp((lowLog - logSigma) / (lowLog - highLog), 0, 1);
        return (1 - w) * low + w * (low + 1);
    }

    /// <summary>log σ in float32, as np.log of the float32 array.</summary>
    public static float[] Log(float[] sigmas) => Array.ConvertAll(sigmas, MathF.Log);
}
