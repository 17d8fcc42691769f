using System.Text.Json;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// The training noise levels every diffusers scheduler config shares (<c>num_train_timesteps</c>, <c>beta_*</c>,
/// <c>trained_betas</c>, <c>rescale_betas_zero_snr</c>); defaults are diffusers' own.
/// </summary>
public sealed record BetaConfig
{
    public int NumTrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 0.0001;
    public double BetaEnd { get; init; } = 0.02;
    public BetaSchedule BetaSchedule { get; init; } = BetaSchedule.Linear;

    /// <summary>Explicit β values (one per training timestep); when set they replace the beta schedule.</summary>
    public IReadOnlyList<double>? TrainedBetas { get; init; }

    /// <summary>Rescale β so the last timestep has zero SNR (arXiv 2305.08891, Algorithm 1).</summary>
    public bool RescaleBetasZeroSnr { get; init; }

    /// <summary>Reads the beta fields of a parsed scheduler config object.</summary>
    /// <exception cref="ModelLoadException">An unsupported or out-of-range value.</exception>
    public static BetaConfig Parse(JsonElement root)
    {
        var defaults = new BetaConfig();
        var config = new BetaConfig
        {
            NumTrainTimesteps = SchedulerJson.ReadInt(root, "num_train_timesteps", defaults.NumTrainTimesteps),
            BetaStart = SchedulerJson.ReadDouble(root, "beta_start", defaults.BetaStart),
            BetaEnd = SchedulerJson.ReadDouble(root, "beta_end", defaults.BetaEnd),
            BetaSchedule = SchedulerJson.ReadEnum(root, "beta_schedule", defaults.BetaSchedule, SchedulerJson.BetaSchedules),
            TrainedBetas = SchedulerJson.ReadNumbers(root, "trained_betas"),
            RescaleBetasZeroSnr = SchedulerJson.ReadBool(root, "rescale_betas_zero_snr", defaults.RescaleBetasZeroSnr),
        };
        config.Validate();
        return config;
    }

    /// <exception cref="ModelLoadException">A value is out of range.</exception>
    public void Validate()
    {
        if (NumTrainTimesteps < 1) SchedulerJson.Unsupported("num_train_timesteps", NumTrainTimesteps);
        if (TrainedBetas is { } betas && betas.Count != NumTrainTimesteps)
            throw new ModelLoadException($"trained_betas has {betas.Count} values but num_train_timesteps = {NumTrainTimesteps}; give one beta per training timestep");
        if (TrainedBetas is null && !(BetaStart > 0 && BetaEnd > 0 && BetaStart < 1 && BetaEnd < 1))
            throw new ModelLoadException($"beta_start = {BetaStart} and beta_end = {BetaEnd} must lie in (0, 1)");
    }
}
