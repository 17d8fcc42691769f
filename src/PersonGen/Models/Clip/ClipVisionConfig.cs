using System.Text.Json.Serialization;
using PersonGen.IO;

namespace PersonGen.Models.Clip;

/// <summary>transformers' <c>CLIPVisionConfig</c>, bound from a vision encoder's <c>config.json</c> (defaults as in transformers: ViT-B/32).</summary>
public sealed record ClipVisionConfig
{
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 768;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 3072;
    [JsonPropertyName("projection_dim")] public int ProjectionDim { get; init; } = 512;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 12;
    [JsonPropertyName("num_channels")] public int NumChannels { get; init; } = 3;
    [JsonPropertyName("image_size")] public int ImageSize { get; init; } = 224;
    [JsonPropertyName("patch_size")] public int PatchSize { get; init; } = 32;
    [JsonPropertyName("hidden_act")] public ClipActivation HiddenAct { get; init; } = ClipActivation.QuickGelu;
    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-5;

    /// <summary>Patches per image side; the sequence is 1 (class token) + <see cref="GridSize"/>².</summary>
    public int GridSize => ImageSize / PatchSize;

    // openai/clip-vit-base-patch32 config.json, vision_config (the ViT-B/32 the CLIP metrics use).
    public static ClipVisionConfig VitB32 { get; } = new();

    /// <summary>Reads <c>config.json</c> of a vision-encoder folder and validates it.</summary>
    /// <exception cref="ModelLoadException">The file is missing, malformed or inconsistent.</exception>
    public static ClipVisionConfig FromFolder(string componentDir)
    {
        string path = Path.Combine(componentDir, "config.json");
        return ConfigJson.Load<ClipVisionConfig>(path).Validate(path);
    }

    /// <summary>Checks sizes; returns this config.</summary>
    /// <exception cref="ModelLoadException">A field is out of range; the message names it.</exception>
    public ClipVisionConfig Validate(string source = "ClipVisionConfig")
    {
        ClipEncoderShape.Validate(source, HiddenSize, IntermediateSize, NumHiddenLayers, NumAttentionHeads);
        if (PatchSize <= 0 || ImageSize % PatchSize != 0)
            throw new ModelLoadException($"{source}: image_size = {ImageSize} must be a positive multiple of patch_size = {PatchSize}");
        return this;
    }

    internal ClipEncoderShape EncoderShape => new(HiddenSize, IntermediateSize, NumHiddenLayers, NumAttentionHeads, HiddenAct, LayerNormEps);
}
