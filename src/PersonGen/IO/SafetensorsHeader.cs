using System.Text;
using System.Text.Json;

namespace PersonGen.IO;

/// <summary>Parses and validates a safetensors JSON header against the size of the data that follows it.</summary>
internal static class SafetensorsHeader
{
    public static (IReadOnlyList<SafetensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata) Parse(
        string path, byte[] header, long dataLength)
    {
        string text;
        try { text = new UTF8Encoding(false, true).GetString(header); }
        catch (DecoderFallbackException) { throw new InvalidCheckpointException(path, "header is not valid UTF-8"); }
        JsonDocument document;
        try { document = JsonDocument.Parse(text); }
        catch (JsonException e) { throw new InvalidCheckpointException(path, $"header is not valid JSON ({e.Message.Split('.')[0]})"); }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidCheckpointException(path, "header is not a JSON object");
            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new InvalidCheckpointException(path, "__metadata__ is not an object of strings");
                    foreach (var item in property.Value.EnumerateObject())
                    {
                        if (item.Value.ValueKind != JsonValueKind.String)
                            throw new InvalidCheckpointException(path, $"__metadata__ value '{item.Name}' is not a string");
                        metadata[item.Name] = item.Value.GetString()!;
                    }
                    continue;
                }
                entries.Add(ParseEntry(path, property));
            }
            var sorted = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
            long expected = 0;
            foreach (var entry in sorted)
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
            return (entries, metadata);
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
            throw new InvalidCheckpointException(path, $"tensor '{name}' has unsupported dtype '{dtype}'");
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new InvalidCheckpointException(path, $"tensor '{name}' has no shape array");
        var shape = new List<long>();
        long elements = 1;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long size) || size < 0)
                throw new InvalidCheckpointException(path, $"tensor '{name}' has an invalid shape entry {dim.GetRawText()}");
            shape.Add(size);
            elements = checked(elements * size);
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw new InvalidCheckpointException(path, $"tensor '{name}' has invalid data_offsets");
        long bytes = checked(elements * SafetensorsDTypes.ElementSize(dtype));
        if (end - begin != bytes)
            throw new InvalidCheckpointException(path,
                $"tensor '{name}' spans {end - begin} bytes but {dtype}{FormatShape(shape)} needs {bytes}");
        return new SafetensorsEntry(name, dtype, shape.ToArray(), begin, end);
    }

    private static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
