using System.Text;
using System.Text.Json;

namespace PersonGen.IO;

/// <summary>
/// Parses and validates a safetensors JSON header against the size of the data that follows it. Every problem
/// becomes an <see cref="InvalidCheckpointException"/> naming the file and the problem.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>Largest header we accept; checked before allocating (the reference library uses the same 100 MB cap).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    public static (IReadOnlyList<SafetensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata) Parse(
        string path, byte[] header, long dataLength)
    {
        string text;
        try { text = new UTF8Encoding(false, true).GetString(header); }
        catch (DecoderFallbackException) { throw new InvalidCheckpointException(path, "header is not valid UTF-8"); }
        if (text.Length == 0 || text[0] != '{')
            throw new InvalidCheckpointException(path, "header does not start with '{' (not a safetensors file?)");
        JsonDocument document;
        try { document = JsonDocument.Parse(text); }
        catch (JsonException e) { throw new InvalidCheckpointException(path, $"header is not valid JSON ({FirstSentence(e.Message)})"); }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidCheckpointException(path, "header is not a JSON object");
            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new InvalidCheckpointException(path, $"header names '{property.Name}' twice");
                if (property.Name == MetadataKey) ParseMetadata(path, property.Value, metadata);
                else entries.Add(ParseEntry(path, property));
            }
            CheckLayout(path, entries, dataLength);
            return (entries, metadata);
        }
    }

    private static void ParseMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidCheckpointException(path, $"{MetadataKey} is not an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new InvalidCheckpointException(path, $"{MetadataKey} value '{item.Name}' is not a string");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw new InvalidCheckpointException(path, $"{MetadataKey} names '{item.Name}' twice");
        }
    }

    private static SafetensorsEntry ParseEntry(string path, JsonProperty property)
    {
        string name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidCheckpointException(path, $"entry '{name}' is not an object");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new InvalidCheckpointException(path, $"tensor '{name}' has no dtype string");
        string dtype = dtypeElement.GetString()!;
        if (!SafetensorsDTypes.IsKnown(dtype))
            throw new InvalidCheckpointException(path,
                $"tensor '{name}' has unsupported dtype '{dtype}' (known: {string.Join(", ", SafetensorsDTypes.All)})");
        long[] shape = ParseShape(path, name, value);
        long bytes = SafetensorsDTypes.ElementSize(dtype);
        foreach (long dim in shape)
        {
            if (dim != 0 && bytes > long.MaxValue / dim)
                throw new InvalidCheckpointException(path, $"tensor '{name}' has a shape {FormatShape(shape)} too large to exist");
            bytes *= dim;
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array
            || offsets.GetArrayLength() != 2 || !TryGetOffset(offsets[0], out long begin) || !TryGetOffset(offsets[1], out long end)
            || end < begin)
            throw new InvalidCheckpointException(path, $"tensor '{name}' has invalid data_offsets (expected [begin, end] with 0 <= begin <= end)");
        if (end - begin != bytes)
            throw new InvalidCheckpointException(path,
                $"tensor '{name}' spans {end - begin} bytes but {dtype}{FormatShape(shape)} needs {bytes}");
        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    private static long[] ParseShape(string path, string name, JsonElement value)
    {
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new InvalidCheckpointException(path, $"tensor '{name}' has no shape array");
        var shape = new long[shapeElement.GetArrayLength()];
        int i = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long size) || size < 0)
                throw new InvalidCheckpointException(path, $"tensor '{name}' has an invalid shape entry {dim.GetRawText()}");
            shape[i++] = size;
        }
        return shape;
    }

    private static bool TryGetOffset(JsonElement element, out long offset)
    {
        offset = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out offset) && offset >= 0;
    }

    /// <summary>Tensors must tile the data section exactly: from 0 to its end, no overlap, gap or trailing bytes.</summary>
    private static void CheckLayout(string path, List<SafetensorsEntry> entries, long dataLength)
    {
        long expected = 0;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin != expected)
                throw new InvalidCheckpointException(path, entry.Begin < expected
                    ? $"tensor '{entry.Name}' overlaps the tensor before it (offset {entry.Begin} < {expected})"
                    : $"gap before tensor '{entry.Name}' (offset {entry.Begin}, expected {expected})");
            expected = entry.End;
        }
        if (expected != dataLength)
            throw new InvalidCheckpointException(path, expected > dataLength
                ? $"tensor data ends at byte {expected} but the file holds only {dataLength} data bytes (truncated?)"
                : $"{dataLength - expected} trailing bytes after the last tensor");
    }

    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return (end < 0 ? message : message[..end]).TrimEnd('.');
    }

    internal static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
