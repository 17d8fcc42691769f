using System.Globalization;
using System.Text.Json;
using PersonGen.IO;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// A diffusers <c>DDIMScheduler</c> config (<c>scheduler_config.json</c>). Defaults are diffusers' own. Configs
/// written for other schedulers (SD folders usually name <c>PNDMScheduler</c>) load too: keys DDIM does not know
/// are ignored, as diffusers' <c>DDIMScheduler.from_pretrained</c> does.
/// </summary>
public sealed record DdimConfig
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

    /// <summary>Builds the immutable schedule for <paramref name="steps"/> inference steps.</summary>
    /// <exception cref="InvalidInputException">steps is not in 1…num_train_timesteps.</exception>
    public DdimSchedule CreateSchedule(int steps) => new(this, steps);

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
    public static DdimConfig Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return Parse(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"the scheduler config is not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>Reads a parsed scheduler config object; see <see cref="Load"/>.</summary>
    /// <exception cref="ModelLoadException">Not a JSON object, or an unsupported value.</exception>
    public static DdimConfig Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ModelLoadException("the scheduler config is not a JSON object");
        var defaults = new DdimConfig();
        if (Get(root, "thresholding") is { } thresholding && ReadBool(thresholding, "thresholding"))
            throw new ModelLoadException("unsupported field thresholding = true (dynamic thresholding is not implemented; set it to false)");
        var config = new DdimConfig
        {
            NumTrainTimesteps = ReadInt(root, "num_train_timesteps", defaults.NumTrainTimesteps),
            BetaStart = ReadDouble(root, "beta_start", defaults.BetaStart),
            BetaEnd = ReadDouble(root, "beta_end", defaults.BetaEnd),
            BetaSchedule = ReadEnum(root, "beta_schedule", defaults.BetaSchedule, BetaSchedules),
            TrainedBetas = Get(root, "trained_betas") is { } betas
                ? ReadNumbers(betas, "trained_betas")
                : null,
            ClipSample = Get(root, "clip_sample") is { } clip ? ReadBool(clip, "clip_sample") : defaults.ClipSample,
            ClipSampleRange = ReadDouble(root, "clip_sample_range", defaults.ClipSampleRange),
            SetAlphaToOne = Get(root, "set_alpha_to_one") is { } one ? ReadBool(one, "set_alpha_to_one") : defaults.SetAlphaToOne,
            StepsOffset = ReadInt(root, "steps_offset", defaults.StepsOffset),
            PredictionType = ReadEnum(root, "prediction_type", defaults.PredictionType, PredictionTypes),
            TimestepSpacing = ReadEnum(root, "timestep_spacing", defaults.TimestepSpacing, Spacings),
            RescaleBetasZeroSnr = Get(root, "rescale_betas_zero_snr") is { } snr ? ReadBool(snr, "rescale_betas_zero_snr") : defaults.RescaleBetasZeroSnr,
        };
        config.Validate();
        return config;
    }

    /// <exception cref="ModelLoadException">A value is out of range.</exception>
    public void Validate()
    {
        if (NumTrainTimesteps < 1) Unsupported("num_train_timesteps", NumTrainTimesteps);
        if (TrainedBetas is { } betas && betas.Count != NumTrainTimesteps)
            throw new ModelLoadException($"trained_betas has {betas.Count} values but num_train_timesteps = {NumTrainTimesteps}; give one beta per training timestep");
        if (TrainedBetas is null && !(BetaStart > 0 && BetaEnd > 0 && BetaStart < 1 && BetaEnd < 1))
            throw new ModelLoadException($"beta_start = {BetaStart} and beta_end = {BetaEnd} must lie in (0, 1)");
        if (StepsOffset < 0) Unsupported("steps_offset", StepsOffset);
        if (ClipSample && !(ClipSampleRange > 0)) Unsupported("clip_sample_range", ClipSampleRange);
    }

    private static readonly Dictionary<string, BetaSchedule> BetaSchedules = new(StringComparer.Ordinal)
    {
        ["linear"] = BetaSchedule.Linear,
        ["scaled_linear"] = BetaSchedule.ScaledLinear,
        ["squaredcos_cap_v2"] = BetaSchedule.SquaredCosCapV2,
    };

    private static readonly Dictionary<string, PredictionType> PredictionTypes = new(StringComparer.Ordinal)
    {
        ["epsilon"] = PredictionType.Epsilon,
        ["v_prediction"] = PredictionType.VPrediction,
        ["sample"] = PredictionType.Sample,
    };

    private static readonly Dictionary<string, TimestepSpacing> Spacings = new(StringComparer.Ordinal)
    {
        ["leading"] = TimestepSpacing.Leading,
        ["trailing"] = TimestepSpacing.Trailing,
        ["linspace"] = TimestepSpacing.Linspace,
    };

    /// <summary>The property, or null when it is absent or JSON null (diffusers then uses its default).</summary>
    private static JsonElement? Get(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static T ReadEnum<T>(JsonElement root, string name, T fallback, Dictionary<string, T> names) where T : struct, Enum
    {
        if (Get(root, name) is not { } value) return fallback;
        if (value.ValueKind == JsonValueKind.String && names.TryGetValue(value.GetString()!, out var parsed)) return parsed;
        throw new ModelLoadException($"unsupported field {name} = {value.GetRawText()} (use one of {string.Join(", ", names.Keys)})");
    }

    private static bool ReadBool(JsonElement value, string name) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new ModelLoadException($"field {name} = {value.GetRawText()} is not true or false"),
    };

    private static double ReadDouble(JsonElement root, string name, double fallback) =>
        Get(root, name) is { } value ? ReadNumber(value, name) : fallback;

    private static double ReadNumber(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw new ModelLoadException($"field {name} = {value.GetRawText()} is not a number");

    private static double[] ReadNumbers(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Select(item => ReadNumber(item, name)).ToArray()
            : throw new ModelLoadException($"field {name} = {value.GetRawText()} is not an array of numbers");

    private static int ReadInt(JsonElement root, string name, int fallback) =>
        Get(root, name) is not { } value ? fallback
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int parsed) ? parsed
        : throw new ModelLoadException($"field {name} = {value.GetRawText()} is not an integer");

    private static void Unsupported(string field, object value) =>
        throw new ModelLoadException($"unsupported field {field} = {Convert.ToString(value, CultureInfo.InvariantCulture)}");
}
