using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>
/// transformers' <c>CLIPVisionTransformer</c> (keys <c>embeddings</c>, <c>pre_layrnorm</c> — the transformers spelling —,
/// <c>encoder</c>, <c>post_layernorm</c>); no attention mask.
/// </summary>
public sealed class ClipVisionTransformer : nn.Module
{
    private readonly ClipVisionConfig _config;

    public ClipVisionEmbeddings embeddings;
    public LayerNorm pre_layrnorm;
    public ClipEncoder encoder;
    public LayerNorm post_layernorm;

    public ClipVisionTransformer(ClipVisionConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(ClipVisionTransformer))
    {
        _config = config.Validate();
        embeddings = new ClipVisionEmbeddings(config, device, dtype);
        pre_layrnorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        encoder = new ClipEncoder(config.EncoderShape, device, dtype);
        post_layernorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>Returns (last hidden state (B, N, D), pooled = post_layernorm(class token) (B, D)); fills <paramref name="hiddenStates"/> if given.</summary>
    /// <exception cref="InvalidInputException">Pixel values of the wrong shape.</exception>
    public (Tensor LastHiddenState, Tensor Pooled) forward(Tensor pixelValues, List<Tensor>? hiddenStates)
    {
        int size = _config.ImageSize;
        if (pixelValues.dim() != 4 || pixelValues.shape[1] != _config.NumChannels || pixelValues.shape[2] != size || pixelValues.shape[3] != size)
            throw new InvalidInputException($"CLIP vision input has shape [{string.Join(",", pixelValues.shape)}]; give (batch, {_config.NumChannels}, {size}, {size}) pixel values");
        using var scope = NewDisposeScope();
        var hidden = pre_layrnorm.call(embeddings.call(pixelValues));
        var last = encoder.forward(hidden, null, causal: false, hiddenStates);
        var pooled = post_layernorm.call(last.select(1, 0));
        if (hiddenStates is not null) foreach (var state in hiddenStates) state.MoveToOuterDisposeScope();
        return (last.MoveToOuterDisposeScope(), pooled.MoveToOuterDisposeScope());
    }
}
