using System.Text.Json;
using System.Text.Json.Nodes;
using PersonGen.Diffusion.Schedulers;
using PersonGen.Models.Clip;
using PersonGen.Models.Unet;
using static TorchSharp.torch;

namespace PersonGen.World;

/// <summary>
/// The built-in world's base model in the diffusers folder layout, in pixel space (no VAE: <c>"vae": [null, null]</c>):
/// <c>unet/</c> (3 → 3 channels at 16×16, block_out_channels (32, 64, 64), one layer per block, DownBlock2D + 2
/// CrossAttnDownBlock2D mirrored up, head dim 8, 8 norm groups), <c>text_encoder/</c> (CLIP, hidden 64, 2 layers,
/// 4 heads, quick_gelu, 77 positions), <c>tokenizer/</c> (<see cref="WorldTokenizer"/>) and <c>scheduler/</c>
/// (DDIM, 1000 steps, scaled_linear 0.00085–0.012, v_prediction).
/// </summary>
public static class WorldModelLayout
{
    public const string UnetWeightsFile = "unet/diffusion_pytorch_model.safetensors";
    public const string TextEncoderWeightsFile = "text_encoder/model.safetensors";

    /// <summary>Width of the text encoder's hidden states (the UNet's cross_attention_dim).</summary>
    public const int TextHiddenSize = 64;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The UNet's <c>config.json</c> as diffusers writes it.</summary>
    public static JsonObject UnetConfigJson(int imageSize = 16) => new()
    {
        ["_class_name"] = "UNet2DConditionModel",
        ["sample_size"] = imageSize,
        ["in_channels"] = 3,
        ["out_channels"] = 3,
        ["block_out_channels"] = new JsonArray(32, 64, 64),
        ["layers_per_block"] = 1,
        ["down_block_types"] = new JsonArray("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        ["mid_block_type"] = "UNetMidBlock2DCrossAttn",
        ["up_block_types"] = new JsonArray("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        // diffusers#2011: attention_head_dim holds the head count; channels / 8 gives head dim 8.
        ["attention_head_dim"] = new JsonArray(4, 8, 8),
        ["cross_attention_dim"] = TextHiddenSize,
        ["norm_num_groups"] = 8,
        ["norm_eps"] = 1e-5,
        ["act_fn"] = "silu",
        ["flip_sin_to_cos"] = true,
        ["freq_shift"] = 0,
        ["use_linear_projection"] = false,
    };

    /// <summary>The text encoder's <c>config.json</c> for a tokenizer with <paramref name="tokenizer"/>'s ids.</summary>
    public static JsonObject TextEncoderConfigJson(ClipTokenizer tokenizer) => new()
    {
        ["architectures"] = new JsonArray("CLIPTextModel"),
        ["model_type"] = "clip_text_model",
        ["vocab_size"] = tokenizer.VocabSize,
        ["hidden_size"] = TextHiddenSize,
        ["intermediate_size"] = 4 * TextHiddenSize,
        ["projection_dim"] = TextHiddenSize,
        ["num_hidden_layers"] = 2,
        ["num_attention_heads"] = 4,
        ["max_position_embeddings"] = 77,
        ["hidden_act"] = "quick_gelu",
        ["layer_norm_eps"] = 1e-5,
        ["bos_token_id"] = tokenizer.BosId,
        ["eos_token_id"] = tokenizer.EosId,
        ["pad_token_id"] = tokenizer.PadId,
    };

    /// <summary>The scheduler's <c>scheduler_config.json</c>.</summary>
    public static JsonObject SchedulerConfigJson() => new()
    {
        ["_class_name"] = "DDIMScheduler",
        ["num_train_timesteps"] = 1000,
        ["beta_start"] = 0.00085,
        ["beta_end"] = 0.012,
        ["beta_schedule"] = "scaled_linear",
        ["clip_sample"] = false,
        ["set_alpha_to_one"] = false,
        ["steps_offset"] = 1,
        ["prediction_type"] = "v_prediction",
        ["timestep_spacing"] = "leading",
    };

    /// <summary>
    /// Writes <c>model_index.json</c>, every component's config and the tokenizer into <paramref name="folder"/>
    /// (weights are written by <see cref="SaveWeights"/>).
    /// </summary>
    public static void WriteConfigs(string folder, int imageSize = 16)
    {
        WorldTokenizer.Write(Path.Combine(folder, "tokenizer"));
        var tokenizer = ClipTokenizer.FromFolder(Path.Combine(folder, "tokenizer"));
        var index = new JsonObject
        {
            ["_class_name"] = "StableDiffusionPipeline",
            ["_diffusers_version"] = "0.30.0",
            ["requires_safety_checker"] = false,
            ["scheduler"] = new JsonArray("diffusers", "DDIMScheduler"),
            ["text_encoder"] = new JsonArray("transformers", "CLIPTextModel"),
            ["tokenizer"] = new JsonArray("transformers", "CLIPTokenizer"),
            ["unet"] = new JsonArray("diffusers", "UNet2DConditionModel"),
            ["vae"] = new JsonArray(null, null),
        };
        WriteJson(Path.Combine(folder, "model_index.json"), index);
        WriteJson(Path.Combine(folder, "unet", "config.json"), UnetConfigJson(imageSize));
        WriteJson(Path.Combine(folder, "text_encoder", "config.json"), TextEncoderConfigJson(tokenizer));
        WriteJson(Path.Combine(folder, "scheduler", "scheduler_config.json"), SchedulerConfigJson());
    }

    /// <summary>The scheduler config of a world model folder.</summary>
    public static DdimConfig LoadScheduler(string folder) =>
        DdimConfig.Load(Path.Combine(folder, "scheduler", "scheduler_config.json"));

    /// <summary>Builds a freshly initialised UNet and text encoder from the configs in <paramref name="folder"/> (float32, CPU).</summary>
    public static (UNet2DConditionModel Unet, ClipTextModel TextEncoder) CreateModels(string folder)
    {
        var unet = new UNet2DConditionModel(UnetConfig.FromFile(Path.Combine(folder, "unet", "config.json")), ScalarType.Float32, CPU);
        var text = new ClipTextModel(ClipTextConfig.FromFolder(Path.Combine(folder, "text_encoder")), CPU, ScalarType.Float32);
        return (unet, text);
    }

    /// <summary>Loads the trained UNet and text encoder of <paramref name="folder"/> strictly, in eval mode.</summary>
    /// <exception cref="ModelLoadException">A config or weights file is missing or does not match.</exception>
    public static (UNet2DConditionModel Unet, ClipTextModel TextEncoder) LoadModels(string folder, Device? device = null)
    {
        var unet = UNet2DConditionModel.Load(Path.Combine(folder, "unet"), ScalarType.Float32, device ?? CPU);
        var text = ClipTextModel.Load(Path.Combine(folder, "text_encoder"), ScalarType.Float32, device ?? CPU);
        return (unet, text);
    }

    /// <summary>State-dict name of the text encoder's token embedding [vocab, hidden].</summary>
    public const string TokenEmbeddingName = "text_model.embeddings.token_embedding.weight";

    /// <summary>
    /// A copy of the token embedding [vocab, hidden] in which every concept token's row is the mean of the identifier
    /// tokens' rows. Concept tokens never occur in base captions, so their rows are untrained noise; this makes them
    /// rare words meaning "one specific individual", as DreamBooth's rare tokens are in a real model's vocabulary.
    /// </summary>
    public static Tensor WithConceptTokenRows(Tensor embedding, ClipTokenizer tokenizer)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long[] identifiers = ShapesWorld.Identifiers.Select(i => SingleTokenId(tokenizer, i.Token)).ToArray();
        long[] concepts = ShapesWorld.Concepts.Select(c => SingleTokenId(tokenizer, c.Token)).Distinct().ToArray();
        var result = embedding.detach().clone();
        var mean = embedding.index_select(0, tensor(identifiers)).mean([0L], keepdim: true);
        result.index_copy_(0, tensor(concepts), mean.expand(concepts.Length, -1));
        return result.MoveToOuterDisposeScope();
    }

    private static long SingleTokenId(ClipTokenizer tokenizer, string word) =>
        tokenizer.SingleTokenId(word) ?? throw new InvalidOperationException($"world word '{word}' is not one token of the world tokenizer");

    /// <summary>Writes both components' weights (fp32 safetensors, atomically) into <paramref name="folder"/>.</summary>
    public static void SaveWeights(string folder, IReadOnlyDictionary<string, Tensor> unet, IReadOnlyDictionary<string, Tensor> textEncoder)
    {
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        IO.SafetensorsFile.Save(Path.Combine(folder, UnetWeightsFile), unet, metadata);
        IO.SafetensorsFile.Save(Path.Combine(folder, TextEncoderWeightsFile), textEncoder, metadata);
    }

    private static void WriteJson(string path, JsonNode node)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, node.ToJsonString(Indented) + "\n");
    }
}
