using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>transformers' <c>CLIPTextModelWithProjection</c>: <see cref="ClipTextModel"/> plus a bias-free <c>text_projection</c>.</summary>
public sealed class ClipTextModelWithProjection : nn.Module<Tensor, ClipTextProjectionOutput>
{
    public ClipTextTransformer text_model;
    public Linear text_projection;

    public ClipTextModelWithProjection(ClipTextConfig config, Device? device = null, ScalarType? dtype = null)
        : base(nameof(ClipTextModelWithProjection))
    {
        Config = config;
        text_model = new ClipTextTransformer(config, device, dtype);
        text_projection = nn.Linear(config.HiddenSize, config.ProjectionDim, hasBias: false, device: device, dtype: dtype);
        RegisterComponents();
    }

    public ClipTextConfig Config { get; }

    /// <inheritdoc cref="ClipTextModel.Load"/>
    public static ClipTextModelWithProjection Load(string componentDir, ScalarType dtype, Device device)
    {
        return StateDictLoader.LoadNew(new ClipTextModelWithProjection(ClipTextConfig.FromFolder(componentDir), device, dtype), componentDir, ClipTextModel.IgnoredKeys);
    }

    public override ClipTextProjectionOutput forward(Tensor inputIds) => forward(inputIds, null);

    /// <inheritdoc cref="ClipTextModel.forward(Tensor, Tensor?, int, bool)"/>
    public ClipTextProjectionOutput forward(Tensor inputIds, Tensor? attentionMask, int clipSkip = 0, bool outputHiddenStates = false)
    {
        var text = text_model.forward(inputIds, attentionMask, clipSkip, outputHiddenStates);
        using var pooled = text.PooledOutput;
        return new ClipTextProjectionOutput(text_projection.call(pooled), text.LastHiddenState, text.HiddenStates);
    }
}
