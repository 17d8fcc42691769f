using System.Text.Json.Serialization;

namespace PersonGen.Models.Clip;

/// <summary>CLIP's MLP activation, transformers' <c>hidden_act</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ClipActivation>))]
public enum ClipActivation
{
    /// <summary><c>quick_gelu</c>: x·σ(1.702x), OpenAI CLIP and SD 1.x.</summary>
    [JsonStringEnumMemberName("quick_gelu")] QuickGelu,

    /// <summary><c>gelu</c>: the exact (erf) GELU, OpenCLIP and SD 2.x.</summary>
    [JsonStringEnumMemberName("gelu")] Gelu,
}
