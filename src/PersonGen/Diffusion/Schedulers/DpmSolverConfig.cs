using System.Text.Json;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// A diffusers <c>DPMSolverMultistepScheduler</c> config with <c>algorithm_type</c> dpmsolver++ (the only one
/// implemented). Defaults are diffusers' own; keys it does not know are ignored, as diffusers' <c>from_config</c> does.
/// </summary>
public sealed record DpmSolverConfig : ISchedulerConfig
{
    public BetaConfig Betas { get; init; } = new();

    /// <summary>1 (DPM-Solver++ 1S, i.e. DDIM in λ) or 2 (DPM-Solver++ 2M).</summary>
    public int SolverOrder { get; init; } = 2;

    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;

    /// <summary>Use first order on the last step when there are fewer than 15 steps (diffusers' stabilisation).</summary>
    public bool LowerOrderFinal { get; init; } = true;

    /// <summary>Always use first order on the last step.</summary>
    public bool EulerAtFinal { get; init; }

    /// <summary>Space the noise levels as Karras et al. (2022), Eq. 5, over the whole training range.</summary>
    public bool UseKarrasSigmas { get; init; }

    public FinalSigmasType FinalSigmasType { get; init; } = FinalSigmasType.Zero;
    public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Linspace;
    public int StepsOffset { get; init; }

    public DpmSolverSchedule CreateSchedule(int steps) => new(this, steps);

    IScheduler ISchedulerConfig.CreateSchedule(int steps) => CreateSchedule(steps);

    /// <summary>Reads a parsed scheduler config object (of DPM-Solver or another diffusers scheduler) as DPM-Solver++.</summary>
    /// <exception cref="ModelLoadException">Not a JSON object, or a value that is not implemented.</exception>
    public static DpmSolverConfig Parse(JsonElement root)
    {
        SchedulerJson.RequireObject(root);
        var defaults = new DpmSolverConfig();
        SchedulerJson.RequireString(root, "algorithm_type", "dpmsolver++");
        SchedulerJson.RequireString(root, "solver_type", "midpoint");
        foreach (string unsupported in new[] { "thresholding", "use_lu_lambdas", "use_exponential_sigmas", "use_beta_sigmas" })
            if (SchedulerJson.ReadBool(root, unsupported, false)) SchedulerJson.Unsupported(unsupported, "true");
        if (SchedulerJson.Get(root, "variance_type") is { } variance) SchedulerJson.Unsupported("variance_type", variance.GetRawText());
        var config = new DpmSolverConfig
        {
            Betas = BetaConfig.Parse(root),
            SolverOrder = SchedulerJson.ReadInt(root, "solver_order", defaults.SolverOrder),
            PredictionType = SchedulerJson.ReadEnum(root, "prediction_type", defaults.PredictionType, SchedulerJson.PredictionTypes),
            LowerOrderFinal = SchedulerJson.ReadBool(root, "lower_order_final", defaults.LowerOrderFinal),
            EulerAtFinal = SchedulerJson.ReadBool(root, "euler_at_final", defaults.EulerAtFinal),
            UseKarrasSigmas = SchedulerJson.ReadBool(root, "use_karras_sigmas", defaults.UseKarrasSigmas),
            FinalSigmasType = SchedulerJson.ReadEnum(root, "final_sigmas_type", defaults.FinalSigmasType, SchedulerJson.FinalSigmas),
            TimestepSpacing = SchedulerJson.ReadEnum(root, "timestep_spacing", defaults.TimestepSpacing, SchedulerJson.Spacings),
            StepsOffset = SchedulerJson.ReadInt(root, "steps_offset", defaults.StepsOffset),
        };
        config.Validate();
        return config;
    }

    /// <exception cref="ModelLoadException">A value is out of range or not implemented.</exception>
    public void Validate()
    {
        Betas.Validate();
        if (SolverOrder is not (1 or 2))
            throw new ModelLoadException($"unsupported field solver_order = {SolverOrder} (orders 1 and 2 are implemented)");
        if (StepsOffset < 0) SchedulerJson.Unsupported("steps_offset", StepsOffset);
    }
}
