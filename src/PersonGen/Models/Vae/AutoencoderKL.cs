using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Vae;

/// <summary>
/// diffusers <c>AutoencoderKL</c> (the Stable Diffusion VAE) with diffusers' parameter names
/// (<c>encoder.*</c>, <c>decoder.*</c>, <c>quant_conv</c>, <c>post_quant_conv</c>). Images are (B, 3, H, W) in
/// [−1, 1]; latents are (B, latent_channels, H/8, W/8) for SD's 4 blocks, unscaled (the caller multiplies by
/// <see cref="ScalingFactor"/> after encoding and divides by it before decoding).
/// </summary>
public sealed class AutoencoderKL : Module<Tensor, Tensor>
{
    /// <summary>Deprecated mid-block attention names (old diffusers / converted LDM checkpoints) → current ones.</summary>
    private static readonly (string Old, string New)[] DeprecatedAttentionNames =
    [
        (".query.", ".to_q."), (".key.", ".to_k."), (".value.", ".to_v."), (".proj_attn.", ".to_out.0."),
    ];

    // Registration order = diffusers' state-dict order.
    private readonly VaeEncoder encoder;
    private readonly VaeDecoder decoder;
    private readonly Conv2d quant_conv;
    private readonly Conv2d post_quant_conv;

    /// <summary>Builds the architecture with random weights (use <see cref="Load"/> for a checkpoint).</summary>
    /// <param name="config">A VAE config; validated here.</param>
    /// <param name="dtype">Parameter dtype (default float32).</param>
    /// <param name="device">Where the parameters live (default CPU).</param>
    /// <exception cref="ModelLoadException">The config holds an unsupported value.</exception>
    public AutoencoderKL(VaeConfig config, ScalarType? dtype = null, Device? device = null) : base(nameof(AutoencoderKL))
    {
        config.Validate();
        Config = config;
        encoder = new VaeEncoder(config, device, dtype);
        decoder = new VaeDecoder(config, device, dtype);
        quant_conv = Conv2d(2 * config.LatentChannels, 2 * config.LatentChannels, 1, device: device, dtype: dtype);
        post_quant_conv = Conv2d(config.LatentChannels, config.LatentChannels, 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    public VaeConfig Config { get; }

    /// <summary>The config's <c>scaling_factor</c> (0.18215 for SD 1.x/2.x).</summary>
    public double ScalingFactor => Config.ScalingFactor;

    /// <summary>
    /// Loads a diffusers <c>vae/</c> folder (<c>config.json</c> + weights, see <see cref="StateDictLoader.LoadFolder"/>) with a
    /// strict key and shape check, converted to <paramref name="dtype"/> on <paramref name="device"/>, in eval mode
    /// with gradients off (the VAE is never trained here). Deprecated mid-block attention names
    /// (<c>query/key/value/proj_attn</c>) are renamed to <c>to_q/to_k/to_v/to_out.0</c>.
    /// </summary>
    /// <exception cref="ModelLoadException">The folder, config or weights are missing or do not match.</exception>
    /// <exception cref="InvalidCheckpointException">The safetensors file is malformed.</exception>
    public static AutoencoderKL Load(string componentDir, ScalarType dtype, Device device)
    {
        if (!Directory.Exists(componentDir))
            throw new ModelLoadException($"{componentDir}: VAE folder not found (a diffusers model folder has vae/)");
        var config = VaeConfig.Load(Path.Combine(componentDir, "config.json"));
        var model = StateDictLoader.LoadNew(new AutoencoderKL(config, dtype, device), componentDir, renameKey: CurrentName);
        foreach (var parameter in model.parameters()) parameter.requires_grad = false;
        return model;
    }

    private static string CurrentName(string key)
    {
        if (!key.Contains(".mid_block.attentions.", StringComparison.Ordinal)) return key;
        foreach (var (old, current) in DeprecatedAttentionNames)
        {
            if (key.Contains(old, StringComparison.Ordinal)) return key.Replace(old, current, StringComparison.Ordinal);
        }
        return key;
    }

    /// <summary>Encodes images (B, in_channels, H, W) in [−1, 1] into the latent distribution (B, C, H/f, W/f).</summary>
    public DiagonalGaussian Encode(Tensor image)
    {
        Tensor moments;
        using (var scope = NewDisposeScope())
        {
            moments = quant_conv.call(encoder.call(image)).MoveToOuterDisposeScope();
        }
        using (moments) return new DiagonalGaussian(moments);
    }

    /// <summary>
    /// Decodes unscaled latents (B, C, h, w) into the raw decoder output (B, out_channels, h·f, w·f): no clamp and
    /// no scaling (divide SD latents by <see cref="ScalingFactor"/> first; images are clamp(x/2 + ½, 0, 1)).
    /// </summary>
    public Tensor Decode(Tensor z)
    {
        using var scope = NewDisposeScope();
        return decoder.call(post_quant_conv.call(z)).MoveToOuterDisposeScope();
    }

    /// <summary>Reconstruction through the posterior mean: Decode(Encode(image).Mean).</summary>
    public override Tensor forward(Tensor image)
    {
        using var posterior = Encode(image);
        return Decode(posterior.Mean);
    }
}
