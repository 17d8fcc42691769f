using System.Text.Json;
using System.Text.Json.Serialization;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// A study file (JSON): base model, concepts, prompt templates (with <c>{}</c> for the concept or class), seeds,
/// images per prompt, steps and strategy specs with grids, e.g.
/// <code>{"base_model": "models/shapes-base", "concepts": [{"name": "checker-square", "method": "svdiff",
///  "checkpoint": "c.safetensors", "token": "sks", "class": "square"}], "prompts": ["a photo of a {} on sand"],
///  "seeds": [0, 1], "images_per_prompt": 4, "steps": 25, "strategies": ["base:w=7", "mixed:ws=0..7:0.5,wc=7-ws"]}</code>
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

    /// <summary>Reads and validates a study file.</summary>
    /// <exception cref="InvalidInputException">The file is missing, not valid JSON, or fails <see cref="Validate"/>.</exception>
    public static StudyDefinition Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"study file '{path}' not found: pass the path of a study JSON file");
        StudyDefinition? study;
        try
        {
            study = JsonSerializer.Deserialize<StudyDefinition>(File.ReadAllText(path), new JsonSerializerOptions { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"study file '{path}' is not valid: {e.Message.Split('\n')[0]}");
        }
        if (study is null) throw new InvalidInputException($"study file '{path}' is empty: write a JSON object");
        study.Validate();
        return study;
    }

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
        _ = ExpandedStrategies();
    }

    /// <summary>Every strategy of the study after grid expansion, as canonical spec strings, in file order, without duplicates.</summary>
    public IReadOnlyList<string> ExpandedStrategies() =>
        Strategies.SelectMany(StrategyGrid.Expand).Select(spec => Sampling.StrategyRegistry.Parse(spec).Spec).Distinct().ToArray();

    /// <summary>All jobs in their deterministic order: strategy, then concept, prompt and seed.</summary>
    public IReadOnlyList<StudyJob> Jobs() =>
        (from spec in ExpandedStrategies()
         from concept in Concepts
         from prompt in Prompts
         from seed in Seeds
         select new StudyJob(spec, concept, prompt, seed, ImagesPerPrompt, Steps)).ToArray();
}
