using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using PersonGen.Diffusion.Schedulers;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// A study file (JSON): base model, concepts, prompt templates (with <c>{}</c> for the concept or class), seeds,
/// images per prompt, steps and strategy specs with grids, e.g.
/// <code>{"base_model": "models/shapes-base", "concepts": [{"name": "checker-square", "method": "svdiff",
///  "checkpoint": "c.safetensors", "token": "sks", "class": "square"}], "prompts": ["a photo of a {} on sand"],
///  "seeds": [0, 1], "images_per_prompt": 4, "steps": 25, "strategies": ["base:w=7", "mixed:ws=0..7:0.5,wc=7-ws"],
///  "metrics": ["identity", "context"], "axes": {"x": "context", "y": "identity"}}</code>
/// Relative paths (base model, checkpoints, reference images) are relative to the study file's folder.
/// </summary>
public sealed record StudyDefinition
{
    [JsonPropertyName("base_model")] public string BaseModel { get; init; } = "";
    [JsonPropertyName("concepts")] public IReadOnlyList<StudyConcept> Concepts { get; init; } = [];
    [JsonPropertyName("prompts")] public IReadOnlyList<string> Prompts { get; init; } = [];
    [JsonPropertyName("seeds")] public IReadOnlyList<int> Seeds { get; init; } = [0];
    [JsonPropertyName("images_per_prompt")] public int ImagesPerPrompt { get; init; } = 4;
    [JsonPropertyName("steps")] public int Steps { get; init; } = 25;
    [JsonPropertyName("strategies")] public IReadOnlyList<string> Strategies { get; init; } = [];

    /// <summary>ddim (default), euler or dpmpp-2m, configured from the base model's scheduler config.</summary>
    [JsonPropertyName("scheduler")] public string Scheduler { get; init; } = "ddim";

    /// <summary>Karras noise levels for euler or dpmpp-2m.</summary>
    [JsonPropertyName("karras")] public bool Karras { get; init; }

    /// <summary>The parsed <see cref="Scheduler"/> and <see cref="Karras"/>.</summary>
    /// <exception cref="InvalidInputException">An unknown scheduler name, or karras with ddim.</exception>
    public SchedulerChoice SchedulerSettings() => SchedulerChoice.Parse(Scheduler, Karras);

    /// <summary>The per-image metrics, by <see cref="MetricRegistry"/> name, in column order; the world's by default.</summary>
    [JsonPropertyName("metrics")] public IReadOnlyList<string> Metrics { get; init; } = ["identity", "context"];

    /// <summary>The two metrics (of <see cref="Metrics"/>) on the Pareto plot's axes.</summary>
    [JsonPropertyName("axes")] public StudyAxes Axes { get; init; } = new();

    /// <summary>The file the study was loaded from (null when built in code); names the study in messages.</summary>
    [JsonIgnore] public string? SourcePath { get; init; }

    /// <summary>Reads a study file, resolves its paths against the file's folder, and validates it.</summary>
    /// <exception cref="InvalidInputException">The file is missing, not valid JSON, has an unknown key, or fails <see cref="Validate"/>.</exception>
    public static StudyDefinition Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"study file '{path}' not found: pass the path of a study JSON file");
        StudyDefinition? study;
        try
        {
            var options = new JsonSerializerOptions { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
            using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            RejectUnknownKeys(path, document.RootElement);
            study = document.RootElement.Deserialize<StudyDefinition>(options);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"study file '{path}' is not valid: {e.Message.Split('\n')[0]}");
        }
        if (study is null) throw new InvalidInputException($"study file '{path}' is empty: write a JSON object");
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        study = study with
        {
            SourcePath = path,
            BaseModel = ResolveIfPresent(folder, study.BaseModel),
            Concepts = study.Concepts.Select(c => c with
            {
                Checkpoint = c.Checkpoint is { } checkpoint ? Resolve(folder, checkpoint) : null,
                ReferenceImages = c.ReferenceImages is { } references ? Resolve(folder, references) : null,
            }).ToArray(),
        };
        study.Validate();
        return study;
    }

    // A base model that is not a path beside the study file stays as written: a hub id resolved from the local cache.
    private static string ResolveIfPresent(string folder, string value)
    {
        string resolved = Resolve(folder, value);
        return value.Length > 0 && (Directory.Exists(resolved) || File.Exists(resolved)) ? resolved : value;
    }

    private static string Resolve(string folder, string value) => Path.IsPathRooted(value) ? value : Path.GetFullPath(Path.Combine(folder, value));

    private static void RejectUnknownKeys(string path, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return;
        CheckKeys(path, root, KeysOf<StudyDefinition>(), "");
        if (root.TryGetProperty("concepts", out var concepts) && concepts.ValueKind == JsonValueKind.Array)
            foreach (var concept in concepts.EnumerateArray().Where(c => c.ValueKind == JsonValueKind.Object))
                CheckKeys(path, concept, KeysOf<StudyConcept>(), "concept ");
        if (root.TryGetProperty("axes", out var axes) && axes.ValueKind == JsonValueKind.Object) CheckKeys(path, axes, KeysOf<StudyAxes>(), "axes ");
    }

    private static void CheckKeys(string path, JsonElement element, IReadOnlyList<string> known, string what)
    {
        foreach (var property in element.EnumerateObject().Where(p => !known.Contains(p.Name)))
            throw new InvalidInputException(
                $"study file '{path}': unknown {what}key \"{property.Name}\": did you mean \"{NearestName.Of(property.Name, known)}\"?");
    }

    private static string[] KeysOf<T>() =>
        typeof(T).GetProperties().Select(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name).OfType<string>().ToArray();

    /// <exception cref="InvalidInputException">A field is empty or out of range, a prompt lacks <c>{}</c>, or a strategy grid is invalid.</exception>
    public void Validate()
    {
        if (Concepts.Count == 0) throw new InvalidInputException("study has no concepts: list at least one under \"concepts\"");
        if (Prompts.Count == 0) throw new InvalidInputException("study has no prompts: list templates such as \"a photo of a {} on sand\" under \"prompts\"");
        if (Seeds.Count == 0) throw new InvalidInputException("study has no seeds: list at least one under \"seeds\"");
        if (Strategies.Count == 0) throw new InvalidInputException("study has no strategies: list specs such as \"base:w=7\" under \"strategies\"");
        if (ImagesPerPrompt < 1) throw new InvalidInputException($"images_per_prompt = {ImagesPerPrompt}: use 1 or more");
        if (Steps < 1) throw new InvalidInputException($"steps = {Steps}: use 1 or more");
        foreach (string prompt in Prompts.Where(p => !p.Contains("{}")))
            throw new InvalidInputException($"study prompt '{prompt}' has no {{}} placeholder: write e.g. \"a photo of a {{}} on sand\"");
        foreach (var duplicate in Concepts.GroupBy(c => c.Name).Where(g => g.Count() > 1))
            throw new InvalidInputException($"study concept '{duplicate.Key}' is listed twice: give each concept a unique name");
        if (Metrics.Count == 0) throw new InvalidInputException("study has no metrics: list metric names such as \"identity\" under \"metrics\" (or leave the key out)");
        foreach (string metric in Metrics.Where(m => !MetricRegistry.IsKey(m)))
            throw new InvalidInputException($"study metric '{metric}' is not a plain name: use letters, digits, '_' or '-' under \"metrics\"");
        foreach (var duplicate in Metrics.GroupBy(m => m, StringComparer.Ordinal).Where(g => g.Count() > 1))
            throw new InvalidInputException($"study metric '{duplicate.Key}' is listed twice under \"metrics\": list each metric once");
        foreach (var (key, axis) in new[] { ("x", Axes.X), ("y", Axes.Y) }.Where(a => !Metrics.Contains(a.Item2, StringComparer.Ordinal)))
            throw new InvalidInputException($"study axes \"{key}\" is '{axis}', which is not one of \"metrics\" [{string.Join(", ", Metrics)}]: name one of them");
        if (Axes.X == Axes.Y) throw new InvalidInputException($"study axes \"x\" and \"y\" are both '{Axes.X}': put two different metrics on the axes");
        _ = ExpandedStrategies();
        _ = SchedulerSettings();
        foreach (string spec in ExpandedStrategies())
            if (Scheduler != "ddim" && Sampling.StrategyRegistry.Parse(spec) is Sampling.Strategies.ProFusionStrategy { Fuses: true })
                throw new InvalidInputException($"strategy '{spec}' needs scheduler ddim (ProFusion's fusion step needs ᾱ at t and t−1); set \"scheduler\": \"ddim\" or drop it");
    }

    /// <summary>Checks every concept against its checkpoint's recorded method, token and class (<see cref="StudyConcept.VerifyCheckpoint"/>).</summary>
    /// <exception cref="PersonGenException">A checkpoint is unreadable or disagrees with its concept.</exception>
    public void VerifyCheckpoints()
    {
        foreach (var concept in Concepts) concept.VerifyCheckpoint();
    }

    /// <summary>One line per repeated seed or prompt, each of which runs once (see <see cref="Jobs"/>).</summary>
    public IReadOnlyList<string> Notices() =>
        Seeds.GroupBy(s => s).Where(g => g.Count() > 1).Select(g => $"seed {g.Key} is listed {g.Count()} times: it runs once")
            .Concat(Prompts.GroupBy(p => p, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"prompt '{g.Key}' is listed {g.Count()} times: it runs once"))
            .ToArray();

    /// <summary>Every strategy of the study after grid expansion, as canonical spec strings, in file order, without duplicates.</summary>
    public IReadOnlyList<string> ExpandedStrategies() =>
        Strategies.SelectMany(StrategyGrid.Expand).Select(spec => Sampling.StrategyRegistry.Parse(spec).Spec).Distinct().ToArray();

    /// <summary>All jobs in their deterministic order: strategy, then concept, prompt and seed; repeated prompts and seeds once.</summary>
    public IReadOnlyList<StudyJob> Jobs() =>
        (from spec in ExpandedStrategies()
         from concept in Concepts
         from prompt in Prompts.Distinct(StringComparer.Ordinal)
         from seed in Seeds.Distinct()
         select new StudyJob(spec, concept, prompt, seed, ImagesPerPrompt, Steps) { Scheduler = SchedulerSettings() }).ToArray();
}
