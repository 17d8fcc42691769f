using System.Text.Json.Serialization;

namespace PersonGen.Evaluation.Studies;

/// <summary>A concept of a study: its name, fine-tuning method and checkpoint, placeholder token and class word.</summary>
public sealed record StudyConcept
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("method")] public string Method { get; init; } = "svdiff";
    [JsonPropertyName("checkpoint")] public string? Checkpoint { get; init; }
    [JsonPropertyName("token")] public string Token { get; init; } = "sks";
    [JsonPropertyName("class")] public required string ClassWord { get; init; }
}
