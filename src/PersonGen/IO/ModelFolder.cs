using System.Text.Json;

namespace PersonGen.IO;

/// <summary>
/// A diffusers-layout model folder: <c>model_index.json</c> naming the pipeline class and its components, one
/// sub-folder per component with <c>config.json</c> or <c>scheduler_config.json</c>, weight files, and tokenizer files.
/// Opened from a local path or from an <c>org/name</c> repository id found in the Hugging Face cache.
/// </summary>
public sealed class ModelFolder
{
    /// <summary>The file that makes a folder a diffusers model folder.</summary>
    public const string IndexFileName = "model_index.json";

    // Weight file names in diffusers' order of preference: single safetensors, sharded safetensors, then pickle.
    private static readonly string[] WeightNames =
    [
        "diffusion_pytorch_model.safetensors", "model.safetensors",
        "diffusion_pytorch_model.safetensors.index.json", "model.safetensors.index.json",
        "diffusion_pytorch_model.bin", "pytorch_model.bin",
        "diffusion_pytorch_model.bin.index.json", "pytorch_model.bin.index.json",
    ];

    private static readonly string[] ConfigNames = ["config.json", "scheduler_config.json"];

    private ModelFolder(string root, string className, string? diffusersVersion,
        IReadOnlyDictionary<string, ComponentInfo> components, IReadOnlyList<string> absentComponents,
        IReadOnlyDictionary<string, JsonElement> attributes)
    {
        Root = root;
        ClassName = className;
        DiffusersVersion = diffusersVersion;
        Components = components;
        AbsentComponents = absentComponents;
        Attributes = attributes;
    }

    /// <summary>Absolute path of the folder that holds <c>model_index.json</c>.</summary>
    public string Root { get; }

    /// <summary>The pipeline class, <c>_class_name</c> of <c>model_index.json</c> (e.g. <c>StableDiffusionPipeline</c>).</summary>
    public string ClassName { get; }

    /// <summary><c>_diffusers_version</c> of <c>model_index.json</c>, if present.</summary>
    public string? DiffusersVersion { get; }

    /// <summary>Components present in the model, by name, in the order of <c>model_index.json</c>.</summary>
    public IReadOnlyDictionary<string, ComponentInfo> Components { get; }

    /// <summary>Components listed as <c>[null, null]</c> (e.g. <c>safety_checker</c>, <c>image_encoder</c>).</summary>
    public IReadOnlyList<string> AbsentComponents { get; }

    /// <summary>Other keys of <c>model_index.json</c>, e.g. <c>requires_safety_checker</c>.</summary>
    public IReadOnlyDictionary<string, JsonElement> Attributes { get; }

    /// <summary>
    /// Resolves <paramref name="pathOrRepoId"/> (a folder, or <c>org/name</c> in the Hugging Face cache at
    /// <paramref name="revision"/>) and reads its <c>model_index.json</c>.
    /// </summary>
    /// <exception cref="ModelLoadException">The model cannot be found, or <c>model_index.json</c> is missing or malformed.</exception>
    public static ModelFolder Open(string pathOrRepoId, string revision = "main")
    {
        string root = Resolve(pathOrRepoId, revision);
        string indexPath = Path.Combine(root, IndexFileName);
        if (!File.Exists(indexPath))
            throw new ModelLoadException(
                $"{root}: not a diffusers model folder, {IndexFileName} is missing; pass the folder that contains {IndexFileName}");
        var index = ConfigJson.ReadFile(indexPath);
        if (index.ValueKind != JsonValueKind.Object)
            throw new ModelLoadException($"{indexPath}: expected a JSON object, found {index.ValueKind}; fix or re-download the file");

        string? className = null, version = null;
        var components = new Dictionary<string, ComponentInfo>(StringComparer.Ordinal);
        var absent = new List<string>();
        var attributes = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in index.EnumerateObject())
        {
            string name = property.Name;
            var value = property.Value;
            if (name == "_class_name") className = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            else if (name == "_diffusers_version") version = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            else if (name.StartsWith('_') || !IsPair(value)) attributes[name] = value;
            else if (value[0].ValueKind == JsonValueKind.Null && value[1].ValueKind == JsonValueKind.Null) absent.Add(name);
            else if (value[0].ValueKind == JsonValueKind.String && value[1].ValueKind == JsonValueKind.String)
                components[name] = new ComponentInfo(name, value[0].GetString()!, value[1].GetString()!, ComponentPath(root, indexPath, name));
            else
                throw new ModelLoadException(
                    $"{indexPath}: component '{name}' must be [\"library\", \"ClassName\"] or [null, null], found {value.GetRawText()}; fix the file");
        }
        if (string.IsNullOrEmpty(className))
            throw new ModelLoadException($"{indexPath}: _class_name is missing or not a string; fix or re-download the file");
        return new ModelFolder(root, className, version, components, absent, attributes);
    }

    /// <summary>
    /// The absolute folder for <paramref name="pathOrRepoId"/>: an existing local folder as is, else the snapshot of
    /// an <c>org/name</c> repository in the Hugging Face cache (<see cref="HuggingFaceCache"/>).
    /// </summary>
    /// <exception cref="ModelLoadException">Neither a folder nor a cached repository.</exception>
    public static string Resolve(string pathOrRepoId, string revision = "main")
    {
        if (string.IsNullOrWhiteSpace(pathOrRepoId))
            throw new ModelLoadException("Model path is empty; pass a model folder or an org/name repository id");
        if (Directory.Exists(pathOrRepoId)) return Path.GetFullPath(pathOrRepoId);
        if (File.Exists(pathOrRepoId))
            throw new ModelLoadException($"{pathOrRepoId}: is a file, not a model folder; pass the folder that contains {IndexFileName}");
        if (HuggingFaceCache.IsRepoId(pathOrRepoId))
        {
            if (HuggingFaceCache.FindSnapshot(pathOrRepoId, revision) is { } snapshot) return snapshot;
            throw new ModelLoadException(
                $"Model '{pathOrRepoId}' is neither a local folder nor in the Hugging Face cache ({HuggingFaceCache.RepoDirectory(pathOrRepoId)}); " +
                $"download it first (huggingface-cli download {pathOrRepoId}) or pass a local folder");
        }
        throw new ModelLoadException($"{pathOrRepoId}: model folder not found; pass an existing folder or an org/name repository id");
    }

    /// <summary>True when <c>model_index.json</c> lists <paramref name="component"/> with a class (not <c>[null, null]</c>).</summary>
    public bool Has(string component) => Components.ContainsKey(component);

    /// <summary>The existing folder of <paramref name="component"/>.</summary>
    /// <exception cref="ModelLoadException">The component is not listed, is null, or its folder is missing.</exception>
    public string ComponentDirectory(string component)
    {
        if (!Components.TryGetValue(component, out var info))
        {
            string why = AbsentComponents.Contains(component) ? "is [null, null] in" : "is not listed in";
            throw new ModelLoadException(
                $"{Root}: component '{component}' {why} {IndexFileName} (components: {string.Join(", ", Components.Keys)}); use a model that has it");
        }
        if (!Directory.Exists(info.Directory))
            throw new ModelLoadException(
                $"{Root}: component folder '{component}' is missing ({IndexFileName} lists {info.Library}/{info.ClassName}); re-download the model or fix {IndexFileName}");
        return info.Directory;
    }

    /// <summary>
    /// The weight files of <paramref name="component"/> (see <see cref="FindWeightFiles"/>); <paramref name="variant"/>
    /// (e.g. <c>fp16</c>) selects <c>diffusion_pytorch_model.fp16.safetensors</c> and the like.
    /// </summary>
    /// <exception cref="ModelLoadException">No weight file, a malformed index, or a missing shard.</exception>
    public IReadOnlyList<string> WeightFiles(string component, string? variant = null) =>
        FindWeightFiles(ComponentDirectory(component), variant);

    /// <summary>
    /// The weight files of a component folder: one file, or the shards a <c>*.index.json</c> names (sorted).
    /// Preference: <c>diffusion_pytorch_model.safetensors</c>, <c>model.safetensors</c>, their sharded indexes,
    /// then the <c>.bin</c> equivalents. <paramref name="variant"/> (e.g. <c>fp16</c>) selects
    /// <c>diffusion_pytorch_model.fp16.safetensors</c> and the like.
    /// </summary>
    /// <exception cref="ModelLoadException">No folder, no weight file, a malformed index, or a missing shard.</exception>
    public static IReadOnlyList<string> FindWeightFiles(string componentDirectory, string? variant = null)
    {
        if (!Directory.Exists(componentDirectory))
            throw new ModelLoadException($"{componentDirectory}: component folder not found; give an existing component folder of a model");
        var candidates = new List<string>();
        foreach (string baseName in WeightNames)
        {
            string name = variant is null ? baseName : WithVariant(baseName, variant);
            candidates.Add(name);
            string path = Path.Combine(componentDirectory, name);
            if (!File.Exists(path)) continue;
            return baseName.EndsWith(".index.json", StringComparison.Ordinal) ? ShardFiles(path) : [path];
        }
        throw new ModelLoadException(
            $"{componentDirectory}: no weight file (looked for {string.Join(", ", candidates)}); re-download the component");
    }

    /// <summary>Path of the component's <c>config.json</c> (or <c>scheduler_config.json</c> for schedulers).</summary>
    /// <exception cref="ModelLoadException">The component folder or its config file is missing.</exception>
    public string ConfigPath(string component)
    {
        string directory = ComponentDirectory(component);
        foreach (string name in ConfigNames)
        {
            string path = Path.Combine(directory, name);
            if (File.Exists(path)) return path;
        }
        throw new ModelLoadException(
            $"{directory}: no {string.Join(" or ", ConfigNames)}; re-download the component");
    }

    /// <summary>The component's config object, to bind with <see cref="ConfigJson.Bind{T}(JsonElement, string, JsonSerializerOptions?)"/>.</summary>
    /// <exception cref="ModelLoadException">The file is missing, is not valid JSON, or is not an object.</exception>
    public JsonElement ReadConfigJson(string component)
    {
        string path = ConfigPath(component);
        var json = ConfigJson.ReadFile(path);
        if (json.ValueKind != JsonValueKind.Object)
            throw new ModelLoadException($"{path}: expected a JSON object, found {json.ValueKind}; fix or re-download the file");
        return json;
    }

    /// <summary>Binds the component's config to <typeparamref name="T"/> (see <see cref="ConfigJson"/>).</summary>
    /// <exception cref="ModelLoadException">The config is missing or does not bind.</exception>
    public ConfigBinding<T> BindConfig<T>(string component, JsonSerializerOptions? options = null) =>
        ConfigJson.Bind<T>(ReadConfigJson(component), ConfigPath(component), options);

    /// <summary>The CLIP tokenizer files of <paramref name="component"/> (<c>vocab.json</c>, <c>merges.txt</c>, optional configs).</summary>
    /// <exception cref="ModelLoadException">The folder, <c>vocab.json</c> or <c>merges.txt</c> is missing.</exception>
    public TokenizerFiles TokenizerFiles(string component = "tokenizer")
    {
        string directory = ComponentDirectory(component);
        string Required(string name)
        {
            string path = Path.Combine(directory, name);
            return File.Exists(path)
                ? path
                : throw new ModelLoadException($"{directory}: tokenizer file {name} is missing; re-download the tokenizer");
        }
        string? Optional(string name) => File.Exists(Path.Combine(directory, name)) ? Path.Combine(directory, name) : null;
        return new TokenizerFiles(Required("vocab.json"), Required("merges.txt"),
            Optional("tokenizer_config.json"), Optional("special_tokens_map.json"));
    }

    private static bool IsPair(JsonElement value) => value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 2;

    // A component name read from JSON must stay a plain sub-folder of the model folder.
    private static string ComponentPath(string root, string indexPath, string name)
    {
        if (!IsPlainName(name))
            throw new ModelLoadException(
                $"{indexPath}: component name '{name}' is not a plain folder name inside the model folder; fix {IndexFileName}");
        return Path.Combine(root, name);
    }

    private static bool IsPlainName(string name) =>
        name.Length > 0 && name != "." && name != ".." && !Path.IsPathRooted(name)
        && name.IndexOfAny(['/', '\\', ':', '\0']) < 0 && name.Trim().Length == name.Length;

    // diffusers' rule: the variant goes before the last extension ("x.safetensors.index.json" → "x.safetensors.index.fp16.json").
    private static string WithVariant(string name, string variant)
    {
        int dot = name.LastIndexOf('.');
        return $"{name[..dot]}.{variant}{name[dot..]}";
    }

    private static IReadOnlyList<string> ShardFiles(string indexPath)
    {
        var index = ConfigJson.ReadFile(indexPath);
        if (index.ValueKind != JsonValueKind.Object || !index.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            throw new ModelLoadException($"{indexPath}: no weight_map object; re-download the component");
        string directory = Path.GetDirectoryName(indexPath)!;
        var shards = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entry in map.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String || !IsPlainName(entry.Value.GetString()!))
                throw new ModelLoadException(
                    $"{indexPath}: weight_map entry '{entry.Name}' must name a file in the same folder, found {entry.Value.GetRawText()}; re-download the component");
            shards.Add(entry.Value.GetString()!);
        }
        if (shards.Count == 0) throw new ModelLoadException($"{indexPath}: weight_map is empty; re-download the component");
        var paths = shards.Select(s => Path.Combine(directory, s)).ToList();
        if (paths.FirstOrDefault(p => !File.Exists(p)) is { } missing)
            throw new ModelLoadException(
                $"{indexPath}: shard {Path.GetFileName(missing)} listed in weight_map is missing; re-download the component");
        return paths;
    }
}
