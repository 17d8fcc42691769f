using System.Globalization;
using System.Text.Json;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>Typed reads of <c>scheduler_config.json</c> fields shared by every scheduler config; errors name the field.</summary>
internal static class SchedulerJson
{
    public static readonly Dictionary<string, BetaSchedule> BetaSchedules = new(StringComparer.Ordinal)
    {
        ["linear"] = BetaSchedule.Linear,
        ["scaled_linear"] = BetaSchedule.ScaledLinear,
        ["squaredcos_cap_v2"] = BetaSchedule.SquaredCosCapV2,
    };

    public static readonly Dictionary<string, PredictionType> PredictionTypes = new(StringComparer.Ordinal)
    {
        ["epsilon"] = PredictionType.Epsilon,
        ["v_prediction"] = PredictionType.VPrediction,
        ["sample"] = PredictionType.Sample,
    };

    public static readonly Dictionary<string, TimestepSpacing> Spacings = new(StringComparer.Ordinal)
    {
        ["leading"] = TimestepSpacing.Leading,
        ["trailing"] = TimestepSpacing.Trailing,
        ["linspace"] = TimestepSpacing.Linspace,
    };

    public static readonly Dictionary<string, FinalSigmasType> FinalSigmas = new(StringComparer.Ordinal)
    {
        ["zero"] = FinalSigmasType.Zero,
        ["sigma_min"] = FinalSigmasType.SigmaMin,
    };

    /// <summary>Parses JSON text into a detached object element.</summary>
    /// <exception cref="ModelLoadException">Not JSON, or not an object.</exception>
    public static JsonElement ParseObject(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return RequireObject(document.RootElement.Clone());
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"the scheduler config is not valid JSON ({e.Message})", e);
        }
    }

    public static JsonElement RequireObject(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object ? root : throw new ModelLoadException("the scheduler config is not a JSON object");

    /// <summary>The property, or null when it is absent or JSON null (diffusers then uses its default).</summary>
    public static JsonElement? Get(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public static T ReadEnum<T>(JsonElement root, string name, T fallback, Dictionary<string, T> names) where T : struct, Enum
    {
        if (Get(root, name) is not { } value) return fallback;
        if (value.ValueKind == JsonValueKind.String && names.TryGetValue(value.GetString()!, out var parsed)) return parsed;
        throw new ModelLoadException($"unsupported field {name} = {value.GetRawText()} (use one of {string.Join(", ", names.Keys)})");
    }

    public static bool ReadBool(JsonElement root, string name, bool fallback) => Get(root, name) switch
    {
        null => fallback,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        { } value => throw new ModelLoadException($"field {name} = {value.GetRawText()} is not true or false"),
    };

    public static double ReadDouble(JsonElement root, string name, double fallback) =>
        Get(root, name) is { } value ? ReadNumber(value, name) : fallback;

    public static double? ReadOptionalDouble(JsonElement root, string name) =>
        Get(root, name) is { } value ? ReadNumber(value, name) : null;

    public static double ReadNumber(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw new ModelLoadException($"field {name} = {value.GetRawText()} is not a number");

    public static double[]? ReadNumbers(JsonElement root, string name) => Get(root, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } value => value.EnumerateArray().Select(item => ReadNumber(item, name)).ToArray(),
        { } value => throw new ModelLoadException($"field {name} = {value.GetRawText()} is not an array of numbers"),
    };

    public static int ReadInt(JsonElement root, string name, int fallback) =>
        Get(root, name) is not { } value ? fallback
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int parsed) ? parsed
        : throw new ModelLoadException($"field {name} = {value.GetRawText()} is not an integer");

    /// <summary>Refuses a field whose value is anything but the one we implement (absent or null reads as that value).</summary>
    public static void RequireString(JsonElement root, string name, string supported)
    {
        if (Get(root, name) is { } value && !(value.ValueKind == JsonValueKind.String && value.GetString() == supported))
            throw new ModelLoadException($"unsupported field {name} = {value.GetRawText()} (only \"{supported}\" is implemented)");
    }

    public static void Unsupported(string field, object value) =>
        throw new ModelLoadException($"unsupported field {field} = {Convert.ToString(value, CultureInfo.InvariantCulture)}");
}
