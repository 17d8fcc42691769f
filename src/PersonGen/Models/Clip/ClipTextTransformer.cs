using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>transformers' <c>CLIPTextTransformer</c> (keys <c>embeddings</c>, <c>encoder</c>, <c>final_layer_norm</c>), causal.</summary>
public sealed class ClipTextTransformer : nn.Module
{
    private readonly ClipTextConfig _config;

    public ClipTextEmbeddings embeddings;
    public ClipEncoder encoder;
    public LayerNorm final_layer_norm;

    public ClipTextTransformer(ClipTextConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(ClipTextTransformer))
    {
        _config = config.Validate();
        embeddings = new ClipTextEmbeddings(config, device, dtype);
        encoder = new ClipEncoder(config.EncoderShape, device, dtype);
        final_layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <inheritdoc cref="ClipTextModel.forward(Tensor, Tensor?, int, bool)"/>
    public ClipTextOutput forward(Tensor inputIds, Tensor? attentionMask, int clipSkip, bool outputHiddenStates)
    {
        if (inputIds.dim() != 2 || inputIds.shape[1] > _config.MaxPositionEmbeddings)
            throw new InvalidInputException($"text encoder input ids have shape [{string.Join(",", inputIds.shape)}]; give (batch, ≤ {_config.MaxPositionEmbeddings}) token ids");
        if (clipSkip < 0 || clipSkip >= _config.NumHiddenLayers)
            throw new InvalidInputException($"clip skip {clipSkip} is out of range; give 0 to {_config.NumHiddenLayers - 1}");
        using var scope = NewDisposeScope();
        long batch = inputIds.shape[0], length = inputIds.shape[1];
        var ids = inputIds.to_type(ScalarType.Int64);
        var hidden = embeddings.call(ids);

        // Causal mask, combined with the padding mask when one is given: (B, 1, L, L), true = may attend.
        Tensor? mask = null;
        if (attentionMask is not null)
        {
            var causal = ones(length, length, ScalarType.Bool, hidden.device).tril();
            var keys = attentionMask.to(hidden.device).to_type(ScalarType.Bool).view(batch, 1, 1, length);
            mask = causal.unsqueeze(0).unsqueeze(0).logical_and(keys);
        }

        var states = outputHiddenStates || clipSkip > 0 ? new List<Tensor>() : null;
        var encoded = encoder.forward(hidden, mask, causal: true, states);
        var last = final_layer_norm.call(encoded);

        // transformers' legacy rule: configs with eos_token_id 2 pool at argmax(ids), others at the first EOS.
        var eosPosition = _config.EosTokenId == 2
            ? ids.argmax(-1)
            : ids.eq(_config.EosTokenId).to_type(ScalarType.Int32).argmax(-1);
        var pooled = last.index(TensorIndex.Tensor(arange(batch, ScalarType.Int64, last.device)), TensorIndex.Tensor(eosPosition));

        var lastHiddenState = clipSkip > 0 ? final_layer_norm.call(states![^(clipSkip + 1)]) : last;
        var output = new ClipTextOutput(lastHiddenState, pooled, outputHiddenStates ? states! : []);
        return output.MoveToOuterDisposeScope();
    }
}
