using System.Text.Json.Serialization;
using PersonGen.IO;
using PersonGen.Training;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// A concept of a study: its name, fine-tuning method and checkpoint, placeholder token, class word, and the folder of
/// reference images (the user's photos) that metrics comparing against the subject read.
/// </summary>
public sealed record StudyConcept
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("method")] public string Method { get; init; } = "svdiff";
    [JsonPropertyName("checkpoint")] public string? Checkpoint { get; init; }
    [JsonPropertyName("token")] public string Token { get; init; } = "sks";
    [JsonPropertyName("class")] public required string ClassWord { get; init; }
    [JsonPropertyName("reference_images"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ReferenceImages { get; init; }

    /// <summary>Checks method, token and class against what a <c>.safetensors</c> checkpoint records it was trained with.</summary>
    /// <exception cref="PersonGenException">The checkpoint is unreadable, or records another method, token or class.</exception>
    public void VerifyCheckpoint()
    {
        if (Checkpoint is not { } path || !path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return;
        using var file = SafetensorsFile.Open(path);
        foreach (var (key, field, value) in new[] { (ConceptCheckpoint.MethodKey, "method", Method), (ConceptCheckpoint.TokenKey, "token", Token), (ConceptCheckpoint.ClassKey, "class", ClassWord) })
        {
            if (file.Metadata.TryGetValue(key, out string? trained) && trained != value)
                throw new InvalidInputException($"study concept '{Name}': \"{field}\" is '{value}' but checkpoint '{path}' was trained with {field} '{trained}': set \"{field}\": \"{trained}\"");
        }
    }
}
