using PersonGen.Models.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using AttentionLayer = PersonGen.Models.Attention.Attention;

namespace PersonGen.Models.Unet;

/// <summary>
/// diffusers <c>UNet2DConditionModel</c> for Stable Diffusion 1.x/2.x: predicts noise (B, Cout, H, W) from a noisy
/// latent (B, Cin, H, W), a timestep (0-d or (B), int64 or float) and text hidden states (B, L, D). Parameter names
/// are the diffusers state-dict keys, so <c>diffusion_pytorch_model.safetensors</c> loads unchanged.
/// </summary>
public sealed class UNet2DConditionModel : Module<Tensor, Tensor, Tensor, Tensor>
{
    // Field order is state-dict order (diffusers registers up_blocks before mid_block).
    public readonly Conv2d conv_in;
    public readonly TimestepEmbedding time_embedding;
    public readonly ModuleList<UnetDownBlock> down_blocks;
    public readonly ModuleList<UnetUpBlock> up_blocks;
    public readonly UnetMidBlock mid_block;
    public readonly GroupNorm conv_norm_out;
    public readonly Conv2d conv_out;

    private IAttentionHook? _attentionHook;

    /// <summary>Builds the architecture of <paramref name="config"/> with freshly initialised weights.</summary>
    /// <param name="config">A UNet config; validated here.</param>
    /// <param name="dtype">Parameter dtype (default float32).</param>
    /// <param name="device">Where the parameters live (default CPU; the meta device builds shapes without memory).</param>
    /// <exception cref="ModelLoadException">The config is not a supported Stable Diffusion UNet.</exception>
    public UNet2DConditionModel(UnetConfig config, ScalarType? dtype = null, Device? device = null)
        : base(nameof(UNet2DConditionModel))
    {
        config.Validate();
        Config = config;
        int first = config.BlockOutChannels[0];
        conv_in = Conv2d(config.InChannels, first, config.ConvInKernel, stride: 1, padding: (config.ConvInKernel - 1) / 2,
            device: device, dtype: dtype);
        time_embedding = new TimestepEmbedding(first, config.TimeEmbedDim, device, dtype);
        down_blocks = new ModuleList<UnetDownBlock>(Enumerable.Range(0, config.BlockCount)
            .Select(i => new UnetDownBlock(config, i, i == 0 ? first : config.BlockOutChannels[i - 1], device, dtype))
            .ToArray());
        up_blocks = new ModuleList<UnetUpBlock>(Enumerable.Range(0, config.BlockCount)
            .Select(i => new UnetUpBlock(config, i, device, dtype))
            .ToArray());
        mid_block = new UnetMidBlock(config, device, dtype);
        conv_norm_out = GroupNorms.Create(config.NormNumGroups!.Value, first, config.NormEps, device, dtype);
        conv_out = Conv2d(first, config.OutChannels, config.ConvOutKernel, stride: 1, padding: (config.ConvOutKernel - 1) / 2,
            device: device, dtype: dtype);
        RegisterComponents();

        var layers = new List<AttentionLayer>();
        foreach (var (name, module) in named_modules())
        {
            if (module is not AttentionLayer attention) continue;
            attention.Path = name;
            layers.Add(attention);
        }
        AttentionLayers = layers;
    }

    public UnetConfig Config { get; }

    /// <summary>Every attention layer, in module order, each knowing its dotted diffusers path.</summary>
    public IReadOnlyList<AttentionLayer> AttentionLayers { get; }

    /// <summary>The hook every attention layer calls, or null for the fast path everywhere.</summary>
    public IAttentionHook? AttentionHook
    {
        get => _attentionHook;
        set
        {
            _attentionHook = value;
            foreach (var layer in AttentionLayers) layer.Hook = value;
        }
    }

    /// <summary>
    /// Loads a diffusers <c>unet/</c> folder: <c>config.json</c> and <c>diffusion_pytorch_model.safetensors</c>
    /// (strictly: missing, unexpected or mis-shaped tensors are an error that names them).
    /// </summary>
    /// <exception cref="ModelLoadException">The folder, config or weights do not describe a supported UNet.</exception>
    /// <exception cref="InvalidCheckpointException">The weights file is malformed.</exception>
    public static UNet2DConditionModel Load(string componentDir, ScalarType dtype, Device device)
    {
        if (!Directory.Exists(componentDir))
            throw new ModelLoadException($"{componentDir}: UNet folder not found; give the model's unet/ folder");
        var config = UnetConfig.FromFile(Path.Combine(componentDir, "config.json"));
        return StateDictLoader.LoadNew(new UNet2DConditionModel(config, dtype, device), componentDir);
    }

    /// <summary>Noise prediction: sample (B, Cin, H, W), timestep 0-d or (B), text (B, L, D) → (B, Cout, H, W).</summary>
    public override Tensor forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates) =>
        Run(sample, timestep, encoderHiddenStates, null);

    /// <summary>
    /// <see cref="forward"/>, reporting the output of each top-level stage to <paramref name="onStage"/> under its
    /// diffusers module name: <c>time_proj</c>, <c>time_embedding</c>, <c>conv_in</c>, <c>down_blocks.i</c>,
    /// <c>mid_block</c>, <c>up_blocks.i</c>, <c>conv_norm_out</c>, <c>conv_act</c>, <c>conv_out</c>. The tensors belong to
    /// this call's dispose scope: keep a copy detached with <c>DetachFromDisposeScope()</c>.
    /// </summary>
    /// <exception cref="InvalidInputException">An input has the wrong rank, channels or batch size.</exception>
    public Tensor Run(Tensor sample, Tensor timestep, Tensor encoderHiddenStates, Action<string, Tensor>? onStage)
    {
        CheckInputs(sample, timestep, encoderHiddenStates);
        using var scope = NewDisposeScope();
        long batch = sample.shape[0];
        // 0. center the input if the model was trained on [0, 1] latents
        var hidden = Config.CenterInputSample ? sample * 2.0 - 1.0 : sample;

        // 1. time: sinusoidal projection (B, first) → MLP (B, 4·first)
        var timeProjection = TimestepProjection(timestep, batch, sample.dtype, sample.device);
        onStage?.Invoke("time_proj", timeProjection);
        var timeEmbedding = time_embedding.call(timeProjection);
        onStage?.Invoke("time_embedding", timeEmbedding);

        // 2. pre-process
        hidden = conv_in.call(hidden);
        onStage?.Invoke("conv_in", hidden);

        // 3. down: every intermediate output becomes a skip connection
        var skips = new List<Tensor> { hidden };
        for (int i = 0; i < down_blocks.Count; i++)
        {
            hidden = down_blocks[i].forward(hidden, timeEmbedding, encoderHiddenStates, skips);
            onStage?.Invoke($"down_blocks.{i}", hidden);
        }

        // 4. mid
        hidden = mid_block.call(hidden, timeEmbedding, encoderHiddenStates);
        onStage?.Invoke("mid_block", hidden);

        // 5. up: skips are consumed last-in first-out
        for (int i = 0; i < up_blocks.Count; i++)
        {
            hidden = up_blocks[i].forward(hidden, timeEmbedding, encoderHiddenStates, skips);
            onStage?.Invoke($"up_blocks.{i}", hidden);
        }

        // 6. post-process
        hidden = conv_norm_out.call(hidden);
        onStage?.Invoke("conv_norm_out", hidden);
        hidden = functional.silu(hidden);
        onStage?.Invoke("conv_act", hidden);
        hidden = conv_out.call(hidden);
        onStage?.Invoke("conv_out", hidden);
        return hidden.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Sinusoidal timestep features (B, first) as diffusers' <c>get_timestep_embedding</c>: frequencies
    /// exp(−ln(10000)·k / (half − freq_shift)), computed in float32, [sin, cos] or [cos, sin] when flip_sin_to_cos.
    /// </summary>
    private Tensor TimestepProjection(Tensor timestep, long batch, ScalarType dtype, Device device)
    {
        int dim = Config.BlockOutChannels[0];
        int half = dim / 2;
        var steps = timestep.to(ScalarType.Float32, device).reshape(-1).expand(batch); // (B)
        var exponent = arange(0, half, dtype: ScalarType.Float32, device: device) * -Math.Log(10000.0) / (half - Config.FreqShift);
        var angles = steps.unsqueeze(1) * exponent.exp().unsqueeze(0); // (B, half)
        var (sin, cos) = (angles.sin(), angles.cos());
        var features = Config.FlipSinToCos ? cat([cos, sin], -1) : cat([sin, cos], -1); // (B, 2·half)
        if (dim % 2 == 1) features = functional.pad(features, [0, 1]);
        return features.to_type(dtype);
    }

    private void CheckInputs(Tensor sample, Tensor timestep, Tensor encoderHiddenStates)
    {
        if (sample.dim() != 4 || sample.shape[1] != Config.InChannels)
            throw new InvalidInputException(
                $"UNet sample has shape [{string.Join(",", sample.shape)}]; expected (batch, {Config.InChannels}, height, width)");
        long batch = sample.shape[0];
        if (timestep.dim() > 1 || (timestep.dim() == 1 && timestep.shape[0] != batch && timestep.shape[0] != 1))
            throw new InvalidInputException(
                $"UNet timestep has shape [{string.Join(",", timestep.shape)}]; expected a scalar or one per sample ({batch})");
        int crossDim = Config.CrossAttentionDim[0];
        if (encoderHiddenStates.dim() != 3 || encoderHiddenStates.shape[0] != batch || encoderHiddenStates.shape[2] != crossDim)
            throw new InvalidInputException(
                $"UNet encoder hidden states have shape [{string.Join(",", encoderHiddenStates.shape)}]; expected ({batch}, tokens, {crossDim}) from the matching text encoder");
    }
}
