using System.Text.Json.Serialization;

namespace PersonGen.Evaluation.Studies;

/// <summary>The metrics on the x and y axes of a study's Pareto plot (study key <c>"axes"</c>); the world's by default.</summary>
public sealed record StudyAxes
{
    [JsonPropertyName("x")] public string X { get; init; } = "context";
    [JsonPropertyName("y")] public string Y { get; init; } = "identity";
}
