using System.Text.Json;

namespace PersonGen.IO;

/// <summary>A config record bound from JSON, with the JSON fields the record does not declare.</summary>
/// <param name="Value">The bound record (defaults where the JSON had no value).</param>
/// <param name="UnknownFields">Fields of the JSON that <typeparamref name="T"/> does not declare, except <c>_</c>-prefixed metadata
/// such as <c>_class_name</c>.</param>
/// <param name="Source">What the JSON came from, named in errors.</param>
public sealed record ConfigBinding<T>(T Value, IReadOnlyDictionary<string, JsonElement> UnknownFields, string Source)
{
    /// <summary>
    /// Returns <see cref="Value"/> when every unknown field is null in the JSON (diffusers writes null for features
    /// that are off) or listed in <paramref name="ignored"/>; otherwise throws naming each offending field and value.
    /// </summary>
    /// <exception cref="ModelLoadException">An unknown field carries a value.</exception>
    public T RequireNoUnknownFields(params string[] ignored)
    {
        var offending = UnknownFields
            .Where(f => f.Value.ValueKind != JsonValueKind.Null && !ignored.Contains(f.Key, StringComparer.Ordinal))
            .OrderBy(f => f.Key, StringComparer.Ordinal)
            .Select(f => $"{f.Key} = {f.Value.GetRawText()}")
            .ToList();
        if (offending.Count > 0)
            throw new ModelLoadException(
                $"{Source}: unsupported field{(offending.Count > 1 ? "s" : "")} {string.Join(", ", offending)}; PersonGen does not implement {(offending.Count > 1 ? "them" : "it")}");
        return Value;
    }
}
