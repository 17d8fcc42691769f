using System.Text.Json;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// A diffusers <c>EulerDiscreteScheduler</c> config. Defaults are diffusers' own (note <c>timestep_spacing</c>
/// linspace, where DDIM's is leading); keys Euler does not know are ignored, as diffusers' <c>from_config</c> does.
/// </summary>
public sealed record EulerConfig : ISchedulerConfig
{
    public BetaConfig Betas { get; init; } = new();

    /// <summary>ε or v (x₀ prediction is not implemented by diffusers' Euler either).</summary>
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;

    public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Linspace;
    public int StepsOffset { get; init; }

    /// <summary>Space the noise levels as Karras et al. (2022), Eq. 5, between <see cref="SigmaMin"/> and <see cref="SigmaMax"/>.</summary>
    public bool UseKarrasSigmas { get; init; }

    /// <summary>Lowest Karras noise level; null = σ of the last inference timestep.</summary>
    public double? SigmaMin { get; init; }

    /// <summary>Highest Karras noise level; null = σ of the first inference timestep.</summary>
    public double? SigmaMax { get; init; }

    public FinalSigmasType FinalSigmasType { get; init; } = FinalSigmasType.Zero;

    public EulerSchedule CreateSchedule(int steps) => new(this, steps);

    IScheduler ISchedulerConfig.CreateSchedule(int steps) => CreateSchedule(steps);

    /// <summary>Reads a parsed scheduler config object (of Euler or another diffusers scheduler) as Euler.</summary>
    /// <exception cref="ModelLoadException">Not a JSON object, or a value Euler does not implement.</exception>
    public static EulerConfig Parse(JsonElement root)
    {
        SchedulerJson.RequireObject(root);
        var defaults = new EulerConfig();
        SchedulerJson.RequireString(root, "interpolation_type", "linear");
        SchedulerJson.RequireString(root, "timestep_type", "discrete");
        foreach (string unsupported in new[] { "use_exponential_sigmas", "use_beta_sigmas" })
            if (SchedulerJson.ReadBool(root, unsupported, false)) SchedulerJson.Unsupported(unsupported, "true");
        var config = new EulerConfig
        {
            Betas = BetaConfig.Parse(root),
            PredictionType = SchedulerJson.ReadEnum(root, "prediction_type", defaults.PredictionType, SchedulerJson.PredictionTypes),
            TimestepSpacing = SchedulerJson.ReadEnum(root, "timestep_spacing", defaults.TimestepSpacing, SchedulerJson.Spacings),
            StepsOffset = SchedulerJson.ReadInt(root, "steps_offset", defaults.StepsOffset),
            UseKarrasSigmas = SchedulerJson.ReadBool(root, "use_karras_sigmas", defaults.UseKarrasSigmas),
            SigmaMin = SchedulerJson.ReadOptionalDouble(root, "sigma_min"),
            SigmaMax = SchedulerJson.ReadOptionalDouble(root, "sigma_max"),
            FinalSigmasType = SchedulerJson.ReadEnum(root, "final_sigmas_type", defaults.FinalSigmasType, SchedulerJson.FinalSigmas),
        };
        config.Validate();
        return config;
    }

    /// <exception cref="ModelLoadException">A value is out of range or not implemented.</exception>
    public void Validate()
    {
        Betas.Validate();
        if (PredictionType == PredictionType.Sample)
            throw new ModelLoadException("unsupported field prediction_type = \"sample\" for the Euler scheduler (use epsilon or v_prediction)");
        if (StepsOffset < 0) SchedulerJson.Unsupported("steps_offset", StepsOffset);
        if (SigmaMin is <= 0) SchedulerJson.Unsupported("sigma_min", SigmaMin);
        if (SigmaMax is <= 0) SchedulerJson.Unsupported("sigma_max", SigmaMax);
    }
}
