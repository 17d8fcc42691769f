using System.Text.Json.Serialization;
using PersonGen.IO;

namespace PersonGen.Models.Vae;

/// <summary>
/// The <c>config.json</c> of a diffusers <c>AutoencoderKL</c>, restricted to what Stable Diffusion 1.x/2.x use.
/// Any other value fails <see cref="Validate"/> with "unsupported field X = Y".
/// </summary>
public sealed record VaeConfig
{
    private const string DownBlock = "DownEncoderBlock2D";
    private const string UpBlock = "UpDecoderBlock2D";

    // stabilityai/stable-diffusion-2-base vae/config.json (SD 1.x has the same architecture, sample_size 512).
    public static VaeConfig Sd2Base { get; } = new()
    {
        BlockOutChannels = [128, 256, 512, 512],
        DownBlockTypes = [DownBlock, DownBlock, DownBlock, DownBlock],
        UpBlockTypes = [UpBlock, UpBlock, UpBlock, UpBlock],
        LayersPerBlock = 2,
        SampleSize = 768,
    };

    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 3;
    [JsonPropertyName("out_channels")] public int OutChannels { get; init; } = 3;
    [JsonPropertyName("down_block_types")] public string[] DownBlockTypes { get; init; } = [DownBlock];
    [JsonPropertyName("up_block_types")] public string[] UpBlockTypes { get; init; } = [UpBlock];
    [JsonPropertyName("block_out_channels")] public int[] BlockOutChannels { get; init; } = [64];
    [JsonPropertyName("layers_per_block")] public int LayersPerBlock { get; init; } = 1;
    [JsonPropertyName("act_fn")] public string ActFn { get; init; } = "silu";
    [JsonPropertyName("latent_channels")] public int LatentChannels { get; init; } = 4;
    [JsonPropertyName("norm_num_groups")] public int NormNumGroups { get; init; } = 32;
    [JsonPropertyName("sample_size")] public int SampleSize { get; init; } = 32;

    /// <summary>Latents are multiplied by this after encoding and divided by it before decoding (by the caller).</summary>
    [JsonPropertyName("scaling_factor")] public double ScalingFactor { get; init; } = 0.18215;

    [JsonPropertyName("shift_factor")] public double? ShiftFactor { get; init; }
    [JsonPropertyName("latents_mean")] public double[]? LatentsMean { get; init; }
    [JsonPropertyName("latents_std")] public double[]? LatentsStd { get; init; }
    [JsonPropertyName("use_quant_conv")] public bool UseQuantConv { get; init; } = true;
    [JsonPropertyName("use_post_quant_conv")] public bool UsePostQuantConv { get; init; } = true;
    [JsonPropertyName("mid_block_add_attention")] public bool MidBlockAddAttention { get; init; } = true;

    /// <summary>Reads and validates a <c>config.json</c>.</summary>
    /// <exception cref="ModelLoadException">The file is missing, not JSON, or holds an unsupported value.</exception>
    public static VaeConfig Load(string path)
    {
        var config = ConfigJson.Load<VaeConfig>(path);
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

    /// <exception cref="ModelLoadException">A field holds a value this implementation does not build.</exception>
    public void Validate()
    {
        if (BlockOutChannels.Length == 0) Unsupported("block_out_channels", "[]");
        if (DownBlockTypes.Length != BlockOutChannels.Length)
            throw new ModelLoadException($"down_block_types has {DownBlockTypes.Length} entries but block_out_channels has {BlockOutChannels.Length}; give one per block");
        if (UpBlockTypes.Length != BlockOutChannels.Length)
            throw new ModelLoadException($"up_block_types has {UpBlockTypes.Length} entries but block_out_channels has {BlockOutChannels.Length}; give one per block");
        foreach (string type in DownBlockTypes) if (type != DownBlock) Unsupported("down_block_types", type);
        foreach (string type in UpBlockTypes) if (type != UpBlock) Unsupported("up_block_types", type);
        if (ActFn != "silu") Unsupported("act_fn", ActFn);
        if (ShiftFactor is not null) Unsupported("shift_factor", ShiftFactor.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (LatentsMean is not null) Unsupported("latents_mean", "[…]");
        if (LatentsStd is not null) Unsupported("latents_std", "[…]");
        if (!UseQuantConv) Unsupported("use_quant_conv", "false");
        if (!UsePostQuantConv) Unsupported("use_post_quant_conv", "false");
        if (!MidBlockAddAttention) Unsupported("mid_block_add_attention", "false");
        if (NormNumGroups <= 0 || BlockOutChannels.Any(c => c <= 0 || c % NormNumGroups != 0))
            throw new ModelLoadException($"block_out_channels [{string.Join(", ", BlockOutChannels)}] must be positive multiples of norm_num_groups = {NormNumGroups}");
        if (LayersPerBlock < 1) Unsupported("layers_per_block", LayersPerBlock.ToString());
        if (InChannels < 1) Unsupported("in_channels", InChannels.ToString());
        if (OutChannels < 1) Unsupported("out_channels", OutChannels.ToString());
        if (LatentChannels < 1) Unsupported("latent_channels", LatentChannels.ToString());
        if (!(ScalingFactor > 0)) Unsupported("scaling_factor", ScalingFactor.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The spatial factor between image and latents: 2^(blocks − 1).</summary>
    [JsonIgnore] public int DownscaleFactor => 1 << (BlockOutChannels.Length - 1);

    private static void Unsupported(string field, string value) =>
        throw new ModelLoadException($"unsupported field {field} = {value} (only Stable Diffusion 1.x/2.x VAE configs are built)");
}
