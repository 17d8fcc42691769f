using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using PersonGen.IO;

namespace PersonGen.Models.Unet;

/// <summary>
/// The diffusers <c>UNet2DConditionModel</c> <c>config.json</c>, with diffusers' defaults for absent keys. Unknown
/// keys are ignored; fields Stable Diffusion 1.x/2.x do not use must keep their neutral value (see <see cref="Validate"/>).
/// </summary>
public sealed record UnetConfig
{
    private static readonly JsonSerializerOptions JsonOptions = ConfigJson.OptionsWith(new IntOrListConverter());

    private static readonly string[] DownBlockTypeNames = ["CrossAttnDownBlock2D", "DownBlock2D"];
    private static readonly string[] UpBlockTypeNames = ["CrossAttnUpBlock2D", "UpBlock2D"];

    /// <summary>Stable Diffusion 2 base (stabilityai/stable-diffusion-2-base, unet/config.json).</summary>
    public static UnetConfig Sd2Base { get; } = new()
    {
        SampleSize = 64,
        AttentionHeadDim = [5, 10, 20, 20],
        CrossAttentionDim = [1024],
        UseLinearProjection = true,
    };

    /// <summary>Stable Diffusion 1.5 (runwayml/stable-diffusion-v1-5, unet/config.json).</summary>
    public static UnetConfig Sd15 { get; } = new()
    {
        SampleSize = 64,
        AttentionHeadDim = [8],
        CrossAttentionDim = [768],
        UseLinearProjection = false,
    };

    [JsonPropertyName("_class_name")] public string? ClassName { get; init; }
    [JsonPropertyName("sample_size")] public int? SampleSize { get; init; }
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 4;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 4;
    [JsonPropertyName("center_input_sample")] public bool CenterInputSample { get; init; }
    [JsonPropertyName("flip_sin_to_cos")] public bool FlipSinToCos { get; init; } = true;
    [JsonPropertyName("freq_shift")] public int FreqShift { get; init; }

    [JsonPropertyName("down_block_types")]
    public IReadOnlyList<string> DownBlockTypes { get; init; } =
        ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"];

    [JsonPropertyName("mid_block_type")] public string? MidBlockType { get; init; } = "UNetMidBlock2DCrossAttn";

    [JsonPropertyName("up_block_types")]
    public IReadOnlyList<string> UpBlockTypes { get; init; } =
        ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"];

    [JsonPropertyName("block_out_channels")] public IReadOnlyList<int> BlockOutChannels { get; init; } = [320, 640, 1280, 1280];

    /// <summary>ResNet layers per down block (up blocks have one more); one value or one per block.</summary>
    [JsonPropertyName("layers_per_block")] public IReadOnlyList<int> LayersPerBlockAsWritten { get; init; } = [2];

    [JsonPropertyName("downsample_padding")] public int DownsamplePadding { get; init; } = 1;
    [JsonPropertyName("mid_block_scale_factor")] public double MidBlockScaleFactor { get; init; } = 1.0;
    [JsonPropertyName("dropout")] public double Dropout { get; init; }
    [JsonPropertyName("act_fn")] public string ActFn { get; init; } = "silu";
    [JsonPropertyName("norm_num_groups")] public int? NormNumGroups { get; init; } = 32;
    [JsonPropertyName("norm_eps")] public double NormEps { get; init; } = 1e-5;

    /// <summary>Channels of the text encoder's hidden states (one value; per-block lists are not supported).</summary>
    [JsonPropertyName("cross_attention_dim")] public IReadOnlyList<int> CrossAttentionDim { get; init; } = [1280];

    [JsonPropertyName("transformer_layers_per_block")]
    public IReadOnlyList<int> TransformerLayersPerBlockAsWritten { get; init; } = [1];

    // diffusers#2011: "attention_head_dim" holds the number of heads per block; read it through HeadCounts.
    [JsonPropertyName("attention_head_dim")] public IReadOnlyList<int> AttentionHeadDim { get; init; } = [8];

    /// <summary>Heads per block when a config states them by their right name; takes precedence over attention_head_dim.</summary>
    [JsonPropertyName("num_attention_heads")] public IReadOnlyList<int>? NumAttentionHeads { get; init; }

    [JsonPropertyName("use_linear_projection")] public bool UseLinearProjection { get; init; }
    [JsonPropertyName("upcast_attention")] public bool UpcastAttention { get; init; }
    [JsonPropertyName("conv_in_kernel")] public int ConvInKernel { get; init; } = 3;
    [JsonPropertyName("conv_out_kernel")] public int ConvOutKernel { get; init; } = 3;

    // Fields Stable Diffusion 1.x/2.x leave neutral; Validate() refuses anything else.
    [JsonPropertyName("only_cross_attention")] public bool OnlyCrossAttention { get; init; }
    [JsonPropertyName("dual_cross_attention")] public bool DualCrossAttention { get; init; }
    [JsonPropertyName("class_embed_type")] public string? ClassEmbedType { get; init; }
    [JsonPropertyName("num_class_embeds")] public int? NumClassEmbeds { get; init; }
    [JsonPropertyName("class_embeddings_concat")] public bool ClassEmbeddingsConcat { get; init; }
    [JsonPropertyName("addition_embed_type")] public string? AdditionEmbedType { get; init; }
    [JsonPropertyName("addition_time_embed_dim")] public int? AdditionTimeEmbedDim { get; init; }
    [JsonPropertyName("projection_class_embeddings_input_dim")] public int? ProjectionClassEmbeddingsInputDim { get; init; }
    [JsonPropertyName("encoder_hid_dim")] public int? EncoderHidDim { get; init; }
    [JsonPropertyName("encoder_hid_dim_type")] public string? EncoderHidDimType { get; init; }
    [JsonPropertyName("time_cond_proj_dim")] public int? TimeCondProjDim { get; init; }
    [JsonPropertyName("time_embedding_type")] public string TimeEmbeddingType { get; init; } = "positional";
    [JsonPropertyName("time_embedding_dim")] public int? TimeEmbeddingDim { get; init; }
    [JsonPropertyName("time_embedding_act_fn")] public string? TimeEmbeddingActFn { get; init; }
    [JsonPropertyName("timestep_post_act")] public string? TimestepPostAct { get; init; }
    [JsonPropertyName("resnet_time_scale_shift")] public string ResnetTimeScaleShift { get; init; } = "default";
    [JsonPropertyName("resnet_skip_time_act")] public bool ResnetSkipTimeAct { get; init; }
    [JsonPropertyName("resnet_out_scale_factor")] public double ResnetOutScaleFactor { get; init; } = 1.0;
    [JsonPropertyName("cross_attention_norm")] public string? CrossAttentionNorm { get; init; }
    [JsonPropertyName("mid_block_only_cross_attention")] public bool? MidBlockOnlyCrossAttention { get; init; }
    [JsonPropertyName("reverse_transformer_layers_per_block")] public JsonElement? ReverseTransformerLayersPerBlock { get; init; }
    [JsonPropertyName("attention_type")] public string AttentionType { get; init; } = "default";

    /// <summary>Number of down (and up) blocks.</summary>
    [JsonIgnore] public int BlockCount => BlockOutChannels.Count;

    /// <summary>Attention heads per down block (up blocks use them reversed, the mid block the last one).</summary>
    [JsonIgnore] public IReadOnlyList<int> HeadCounts => PerBlock(NumAttentionHeads ?? AttentionHeadDim);

    /// <summary>ResNet layers per down block.</summary>
    [JsonIgnore] public IReadOnlyList<int> LayersPerBlock => PerBlock(LayersPerBlockAsWritten);

    /// <summary>Transformer blocks inside each Transformer2DModel of a down block.</summary>
    [JsonIgnore] public IReadOnlyList<int> TransformerLayersPerBlock => PerBlock(TransformerLayersPerBlockAsWritten);

    /// <summary>Width of the time embedding (4 × the first block's channels).</summary>
    [JsonIgnore] public int TimeEmbedDim => BlockOutChannels[0] * 4;

    /// <summary>Reads and validates a <c>config.json</c>.</summary>
    /// <exception cref="ModelLoadException">The file is missing, is not valid JSON, or describes an unsupported UNet.</exception>
    public static UnetConfig FromFile(string path)
    {
        var config = ConfigJson.Load<UnetConfig>(path, JsonOptions);
        try
        {
            config.Validate();
        }
        catch (ModelLoadException e)
        {
            throw new ModelLoadException($"{path}: {e.Message}", e);
        }
        return config;
    }

    /// <summary>Checks that this is a Stable Diffusion 1.x/2.x UNet that PersonGen can build.</summary>
    /// <exception cref="ModelLoadException">Names the first unsupported or inconsistent field.</exception>
    public void Validate()
    {
        if (ClassName is not null and not "UNet2DConditionModel") Unsupported("_class_name", ClassName);
        Neutral("class_embed_type", ClassEmbedType);
        Neutral("num_class_embeds", NumClassEmbeds);
        Neutral("class_embeddings_concat", ClassEmbeddingsConcat, false);
        Neutral("addition_embed_type", AdditionEmbedType);
        Neutral("addition_time_embed_dim", AdditionTimeEmbedDim);
        Neutral("projection_class_embeddings_input_dim", ProjectionClassEmbeddingsInputDim);
        Neutral("encoder_hid_dim", EncoderHidDim);
        Neutral("encoder_hid_dim_type", EncoderHidDimType);
        Neutral("time_cond_proj_dim", TimeCondProjDim);
        Neutral("time_embedding_type", TimeEmbeddingType, "positional");
        Neutral("time_embedding_dim", TimeEmbeddingDim);
        Neutral("time_embedding_act_fn", TimeEmbeddingActFn);
        Neutral("timestep_post_act", TimestepPostAct);
        Neutral("resnet_time_scale_shift", ResnetTimeScaleShift, "default");
        Neutral("resnet_skip_time_act", ResnetSkipTimeAct, false);
        Neutral("resnet_out_scale_factor", ResnetOutScaleFactor, 1.0);
        Neutral("cross_attention_norm", CrossAttentionNorm);
        Neutral("only_cross_attention", OnlyCrossAttention, false);
        Neutral("dual_cross_attention", DualCrossAttention, false);
        if (MidBlockOnlyCrossAttention == true) Unsupported("mid_block_only_cross_attention", "true");
        if (ReverseTransformerLayersPerBlock is { ValueKind: not JsonValueKind.Null } reverse)
            Unsupported("reverse_transformer_layers_per_block", reverse.GetRawText());
        Neutral("attention_type", AttentionType, "default");
        Neutral("dropout", Dropout, 0.0);
        if (ActFn is not ("silu" or "swish")) Unsupported("act_fn", ActFn);
        if (MidBlockType is not "UNetMidBlock2DCrossAttn") Unsupported("mid_block_type", MidBlockType ?? "null");
        if (NormNumGroups is not { } groups) { Unsupported("norm_num_groups", "null"); return; }
        if (CrossAttentionDim.Count != 1) Unsupported("cross_attention_dim", Show(CrossAttentionDim));

        if (BlockCount == 0) Invalid("block_out_channels is empty");
        if (DownBlockTypes.Count != BlockCount || UpBlockTypes.Count != BlockCount)
            Invalid($"down_block_types ({DownBlockTypes.Count}), up_block_types ({UpBlockTypes.Count}) and block_out_channels ({BlockCount}) must have the same length");
        foreach (string type in DownBlockTypes.Where(t => !DownBlockTypeNames.Contains(t))) Unsupported("down_block_types", type);
        foreach (string type in UpBlockTypes.Where(t => !UpBlockTypeNames.Contains(t))) Unsupported("up_block_types", type);
        CheckPerBlock("attention_head_dim", NumAttentionHeads ?? AttentionHeadDim);
        CheckPerBlock("layers_per_block", LayersPerBlockAsWritten);
        CheckPerBlock("transformer_layers_per_block", TransformerLayersPerBlockAsWritten);
        if (DownsamplePadding is not (0 or 1)) Unsupported("downsample_padding", DownsamplePadding.ToString(CultureInfo.InvariantCulture));
        if (ConvInKernel % 2 == 0) Unsupported("conv_in_kernel", ConvInKernel.ToString(CultureInfo.InvariantCulture));
        if (ConvOutKernel % 2 == 0) Unsupported("conv_out_kernel", ConvOutKernel.ToString(CultureInfo.InvariantCulture));
        for (int i = 0; i < BlockCount; i++)
        {
            int channels = BlockOutChannels[i];
            if (channels <= 0 || channels % groups != 0)
                Invalid($"block_out_channels[{i}] = {channels} is not a positive multiple of norm_num_groups = {groups}");
            if (channels % HeadCounts[i] != 0)
                Invalid($"block_out_channels[{i}] = {channels} is not divisible by its head count {HeadCounts[i]} (attention_head_dim)");
        }
    }

    private IReadOnlyList<int> PerBlock(IReadOnlyList<int> values) =>
        values.Count == 1 ? Enumerable.Repeat(values[0], BlockCount).ToArray() : values;

    private void CheckPerBlock(string field, IReadOnlyList<int> values)
    {
        if (values.Count != 1 && values.Count != BlockCount)
            Invalid($"{field} has {values.Count} values for {BlockCount} blocks; give one value or one per block");
        if (values.Any(v => v <= 0)) Invalid($"{field} = {Show(values)} must be positive");
    }

    private static void Neutral(string field, string? value)
    {
        if (value is not null) Unsupported(field, $"\"{value}\"");
    }

    private static void Neutral(string field, int? value)
    {
        if (value is { } set) Unsupported(field, set.ToString(CultureInfo.InvariantCulture));
    }

    private static void Neutral<T>(string field, T value, T neutral) where T : notnull
    {
        if (!EqualityComparer<T>.Default.Equals(value, neutral))
            Unsupported(field, value is string s ? $"\"{s}\"" : Convert.ToString(value, CultureInfo.InvariantCulture)!.ToLowerInvariant());
    }

    private static string Show(IReadOnlyList<int> values) => "[" + string.Join(", ", values) + "]";

    private static void Unsupported(string field, string value) =>
        throw new ModelLoadException($"unsupported field {field} = {value}: PersonGen builds Stable Diffusion 1.x/2.x UNets only");

    private static void Invalid(string problem) => throw new ModelLoadException($"invalid UNet config: {problem}");
}
