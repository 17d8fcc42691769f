using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace PersonGen.IO;

/// <summary>
/// Reads the JSON files of a model folder (<c>config.json</c>, <c>scheduler_config.json</c>, <c>model_index.json</c>)
/// and binds them to typed config records: defaults come from the record's property initialisers, missing required
/// fields and ill-typed values become one-line <see cref="ModelLoadException"/>s naming the file and the field, and
/// fields the record does not know are reported back (<see cref="ConfigBinding{T}.UnknownFields"/>).
/// </summary>
public static class ConfigJson
{
    /// <summary>
    /// Options used by <see cref="Bind{T}(JsonElement, string, JsonSerializerOptions?)"/> when none are given:
    /// C# property <c>BlockOutChannels</c> binds JSON <c>block_out_channels</c> (snake_case, as diffusers writes),
    /// <c>[JsonPropertyName]</c> overrides it; nullable annotations and <c>required</c> members are enforced.
    /// </summary>
    public static JsonSerializerOptions DefaultOptions { get; } = CreateDefaultOptions();

    /// <summary>Parses a JSON file into a detached element.</summary>
    /// <exception cref="ModelLoadException">The file is missing or is not valid JSON.</exception>
    public static JsonElement ReadFile(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException($"{path}: file not found");
        try
        {
            using var stream = File.OpenRead(path);
            using var document = JsonDocument.Parse(stream, new JsonDocumentOptions
            {
                AllowTrailingCommas = true,
                CommentHandling = JsonCommentHandling.Skip,
            });
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ModelLoadException(
                $"{path}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}); fix or re-download the file", e);
        }
    }

    /// <summary>
    /// Reads a config file and binds it to <typeparamref name="T"/>: fields <typeparamref name="T"/> does not declare are
    /// ignored (as diffusers and transformers ignore them), everything else as in <see cref="Bind{T}(JsonElement, string, JsonSerializerOptions?)"/>.
    /// </summary>
    /// <param name="path">A <c>config.json</c> or <c>scheduler_config.json</c>.</param>
    /// <param name="options">Serializer options; null means <see cref="DefaultOptions"/>.</param>
    /// <exception cref="ModelLoadException">The file is missing or not JSON, a required field is missing, or a value has the wrong type.</exception>
    public static T Load<T>(string path, JsonSerializerOptions? options = null) => Bind<T>(ReadFile(path), path, options).Value;

    /// <summary><see cref="DefaultOptions"/> plus <paramref name="converters"/> (e.g. for values written as one int or a list).</summary>
    public static JsonSerializerOptions OptionsWith(params JsonConverter[] converters)
    {
        var options = new JsonSerializerOptions(DefaultOptions);
        foreach (var converter in converters) options.Converters.Add(converter);
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Binds a config object with reflection-based metadata and <paramref name="options"/> (default <see cref="DefaultOptions"/>).</summary>
    /// <param name="json">The config object, e.g. from <see cref="ModelFolder.ReadConfigJson"/>.</param>
    /// <param name="source">What the JSON came from (a file path), named in every error.</param>
    /// <param name="options">Serializer options; null means <see cref="DefaultOptions"/>.</param>
    /// <exception cref="ModelLoadException">Not an object, a required field is missing, or a value has the wrong type.</exception>
    public static ConfigBinding<T> Bind<T>(JsonElement json, string source, JsonSerializerOptions? options = null) =>
        Bind(json, source, (JsonTypeInfo<T>)(options ?? DefaultOptions).GetTypeInfo(typeof(T)));

    /// <summary>Binds a config object with the given (e.g. source-generated) metadata.</summary>
    /// <exception cref="ModelLoadException">Not an object, a required field is missing, or a value has the wrong type.</exception>
    public static ConfigBinding<T> Bind<T>(JsonElement json, string source, JsonTypeInfo<T> typeInfo)
    {
        if (json.ValueKind != JsonValueKind.Object)
            throw new ModelLoadException($"{source}: expected a JSON object, found {json.ValueKind}; fix the config file");
        var known = typeInfo.Properties.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var present = json.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var missing = typeInfo.Properties.Where(p => p.IsRequired && !present.Contains(p.Name)).Select(p => p.Name).ToList();
        if (missing.Count > 0)
            throw new ModelLoadException(
                $"{source}: missing required field{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing)}; add {(missing.Count > 1 ? "them" : "it")} to the config file");
        T? value;
        try
        {
            value = json.Deserialize(typeInfo);
        }
        catch (JsonException e)
        {
            string field = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : e.Path ?? "$";
            throw new ModelLoadException($"{source}: field '{field}' cannot be read: {FirstSentence(e.Message)}; fix the config file", e);
        }
        if (value is null) throw new ModelLoadException($"{source}: the config is null; fix the config file");
        var unknown = json.EnumerateObject()
            .Where(p => !known.Contains(p.Name) && !p.Name.StartsWith('_'))
            .ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
        return new ConfigBinding<T>(value, unknown, source);
    }

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut >= 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }

    private static JsonSerializerOptions CreateDefaultOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            AllowTrailingCommas = true,
            ReadCommentHandling = JsonCommentHandling.Skip,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.MakeReadOnly();
        return options;
    }
}
