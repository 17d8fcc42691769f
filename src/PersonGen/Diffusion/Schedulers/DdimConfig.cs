using System.Text.Json;
using System.Text.Json.Nodes;
using PersonGen.IO;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// A diffusers <c>DDIMScheduler</c> config (<c>scheduler_config.json</c>). Defaults are diffusers' own. Configs
/// written for other schedulers (SD folders usually name <c>PNDMScheduler</c>) load too: keys DDIM does not know
/// are ignored, as diffusers' <c>DDIMScheduler.from_pretrained</c> does.
/// </summary>
public sealed record DdimConfig : ISchedulerConfig
{
    // stabilityai/stable-diffusion-2-base scheduler/scheduler_config.json, read as DDIM.
    public static DdimConfig Sd2Base { get; } = new()
    {
        BetaStart = 0.00085,
        BetaEnd = 0.012,
        BetaSchedule = BetaSchedule.ScaledLinear,
        ClipSample = false,
        SetAlphaToOne = false,
        StepsOffset = 1,
    };

    public int NumTrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 0.0001;
    public double BetaEnd { get; init; } = 0.02;
    public BetaSchedule BetaSchedule { get; init; } = BetaSchedule.Linear;

    /// <summary>Explicit β values (one per training timestep); when set they replace the beta schedule.</summary>
    public IReadOnlyList<double>? TrainedBetas { get; init; }

    /// <summary>Clamp x̂₀ to ±<see cref="ClipSampleRange"/> in each step.</summary>
    public bool ClipSample { get; init; } = true;

    public double ClipSampleRange { get; init; } = 1.0;

    /// <summary>ᾱ past the last step: 1 when true, else ᾱ₀.</summary>
    public bool SetAlphaToOne { get; init; } = true;

    public int StepsOffset { get; init; }
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;
    public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Leading;

    /// <summary>Rescale β so the last timestep has zero SNR (arXiv 2305.08891, Algorithm 1).</summary>
    public bool RescaleBetasZeroSnr { get; init; }

    /// <summary>The training noise levels these settings name.</summary>
    public BetaConfig Betas => new()
    {
        NumTrainTimesteps = NumTrainTimesteps,
        BetaStart = BetaStart,
        BetaEnd = BetaEnd,
        BetaSchedule = BetaSchedule,
        TrainedBetas = TrainedBetas,
        RescaleBetasZeroSnr = RescaleBetasZeroSnr,
    };

    /// <summary>Builds the immutable schedule for <paramref name="steps"/> inference steps.</summary>
    /// <exception cref="InvalidInputException">steps is not in 1…num_train_timesteps.</exception>
    public DdimSchedule CreateSchedule(int steps) => new(this, steps);

    IScheduler ISchedulerConfig.CreateSchedule(int steps) => CreateSchedule(steps);

    /// <summary>Reads a <c>scheduler_config.json</c> (of DDIM or another diffusers scheduler) as a DDIM config.</summary>
    /// <exception cref="ModelLoadException">The file is missing, not JSON, or holds an unsupported value.</exception>
    public static DdimConfig Load(string path)
    {
        var json = ConfigJson.ReadFile(path);
        try
        {
            return Parse(json);
        }
        catch (ModelLoadException e)
        {
            throw new ModelLoadException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Parses the JSON text of a scheduler config; see <see cref="Load"/>.</summary>
    /// <exception cref="ModelLoadException">Not a JSON object, or an unsupported value.</exception>
    public static DdimConfig Parse(string json) => Parse(SchedulerJson.ParseObject(json));

    /// <summary>Reads a parsed scheduler config object; see <see cref="Load"/>.</summary>
    /// <exception cref="ModelLoadException">Not a JSON object, or an unsupported value.</exception>
    public static DdimConfig Parse(JsonElement root)
    {
        SchedulerJson.RequireObject(root);
        var defaults = new DdimConfig();
        if (SchedulerJson.ReadBool(root, "thresholding", false))
            throw new ModelLoadException("unsupported field thresholding = true (dynamic thresholding is not implemented; set it to false)");
        var betas = BetaConfig.Parse(root);
        var config = new DdimConfig
        {
            NumTrainTimesteps = betas.NumTrainTimesteps,
            BetaStart = betas.BetaStart,
            BetaEnd = betas.BetaEnd,
            BetaSchedule = betas.BetaSchedule,
            TrainedBetas = betas.TrainedBetas,
            RescaleBetasZeroSnr = betas.RescaleBetasZeroSnr,
            ClipSample = SchedulerJson.ReadBool(root, "clip_sample", defaults.ClipSample),
            ClipSampleRange = SchedulerJson.ReadDouble(root, "clip_sample_range", defaults.ClipSampleRange),
            SetAlphaToOne = SchedulerJson.ReadBool(root, "set_alpha_to_one", defaults.SetAlphaToOne),
            StepsOffset = SchedulerJson.ReadInt(root, "steps_offset", defaults.StepsOffset),
            PredictionType = SchedulerJson.ReadEnum(root, "prediction_type", defaults.PredictionType, SchedulerJson.PredictionTypes),
            TimestepSpacing = SchedulerJson.ReadEnum(root, "timestep_spacing", defaults.TimestepSpacing, SchedulerJson.Spacings),
        };
        config.Validate();
        return config;
    }

    /// <summary>
    /// These settings as a diffusers <c>DDIMScheduler</c> config object, so another scheduler can be configured from
    /// them as diffusers' <c>from_config</c> does; <see cref="Parse(JsonElement)"/> reads it back to an equal config.
    /// </summary>
    public JsonElement ToJson()
    {
        static string Name<T>(Dictionary<string, T> names, T value) where T : struct, Enum =>
            names.First(pair => EqualityComparer<T>.Default.Equals(pair.Value, value)).Key;
        var json = new JsonObject
        {
            ["_class_name"] = "DDIMScheduler",
            ["num_train_timesteps"] = NumTrainTimesteps,
            ["beta_start"] = BetaStart,
            ["beta_end"] = BetaEnd,
            ["beta_schedule"] = Name(SchedulerJson.BetaSchedules, BetaSchedule),
            ["trained_betas"] = TrainedBetas is { } betas ? new JsonArray(betas.Select(b => (JsonNode)b).ToArray()) : null,
            ["clip_sample"] = ClipSample,
            ["clip_sample_range"] = ClipSampleRange,
            ["set_alpha_to_one"] = SetAlphaToOne,
            ["steps_offset"] = StepsOffset,
            ["prediction_type"] = Name(SchedulerJson.PredictionTypes, PredictionType),
            ["timestep_spacing"] = Name(SchedulerJson.Spacings, TimestepSpacing),
            ["rescale_betas_zero_snr"] = RescaleBetasZeroSnr,
        };
        return JsonSerializer.SerializeToElement(json);
    }

    /// <exception cref="ModelLoadException">A value is out of range.</exception>
    public void Validate()
    {
        Betas.Validate();
        if (StepsOffset < 0) SchedulerJson.Unsupported("steps_offset", StepsOffset);
        if (ClipSample && !(ClipSampleRange > 0)) SchedulerJson.Unsupported("clip_sample_range", ClipSampleRange);
    }
}
