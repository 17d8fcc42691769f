using System.Text.Json.Serialization;
using PersonGen.IO;

namespace PersonGen.Models.Clip;

/// <summary>transformers' <c>CLIPTextConfig</c>, bound from a text encoder's <c>config.json</c> (defaults as in transformers).</summary>
public sealed record ClipTextConfig
{
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 49408;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 512;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 2048;
    [JsonPropertyName("projection_dim")] public int ProjectionDim { get; init; } = 512;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 8;
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 77;
    [JsonPropertyName("hidden_act")] public ClipActivation HiddenAct { get; init; } = ClipActivation.QuickGelu;
    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-5;
    [JsonPropertyName("bos_token_id")] public int BosTokenId { get; init; } = 49406;
    [JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; } = 49407;
    [JsonPropertyName("pad_token_id")] public int PadTokenId { get; init; } = 1;

    // stabilityai/stable-diffusion-2-base text_encoder/config.json (OpenCLIP ViT-H/14 text tower minus its last layer).
    public static ClipTextConfig Sd2Base { get; } = new()
    {
        HiddenSize = 1024,
        IntermediateSize = 4096,
        ProjectionDim = 512,
        NumHiddenLayers = 23,
        NumAttentionHeads = 16,
        HiddenAct = ClipActivation.Gelu,
        BosTokenId = 0,
        EosTokenId = 2,
        PadTokenId = 1,
    };

    // runwayml/stable-diffusion-v1-5 text_encoder/config.json (OpenAI CLIP ViT-L/14 text tower).
    public static ClipTextConfig Sd15 { get; } = new()
    {
        HiddenSize = 768,
        IntermediateSize = 3072,
        ProjectionDim = 768,
        NumHiddenLayers = 12,
        NumAttentionHeads = 12,
        HiddenAct = ClipActivation.QuickGelu,
        BosTokenId = 0,
        EosTokenId = 2,
        PadTokenId = 1,
    };

    /// <summary>Reads <c>config.json</c> of a text-encoder folder and validates it.</summary>
    /// <exception cref="ModelLoadException">The file is missing, malformed or inconsistent.</exception>
    public static ClipTextConfig FromFolder(string componentDir)
    {
        string path = Path.Combine(componentDir, "config.json");
        return ConfigJson.Load<ClipTextConfig>(path).Validate(path);
    }

    /// <summary>Checks sizes; returns this config.</summary>
    /// <exception cref="ModelLoadException">A field is out of range; the message names it.</exception>
    public ClipTextConfig Validate(string source = "ClipTextConfig")
    {
        ClipEncoderShape.Validate(source, HiddenSize, IntermediateSize, NumHiddenLayers, NumAttentionHeads);
        if (VocabSize <= 0) throw new ModelLoadException($"{source}: vocab_size = {VocabSize} must be positive");
        if (MaxPositionEmbeddings <= 0) throw new ModelLoadException($"{source}: max_position_embeddings = {MaxPositionEmbeddings} must be positive");
        return this;
    }

    internal ClipEncoderShape EncoderShape => new(HiddenSize, IntermediateSize, NumHiddenLayers, NumAttentionHeads, HiddenAct, LayerNormEps);
}
