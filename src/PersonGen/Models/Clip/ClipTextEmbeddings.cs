using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>transformers' <c>CLIPTextEmbeddings</c>: token embedding plus learned absolute position embedding.</summary>
public sealed class ClipTextEmbeddings : nn.Module<Tensor, Tensor>
{
    public Embedding token_embedding;
    public Embedding position_embedding;

    public ClipTextEmbeddings(ClipTextConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(ClipTextEmbeddings))
    {
        token_embedding = nn.Embedding(config.VocabSize, config.HiddenSize, device: device, dtype: dtype);
        position_embedding = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <param name="inputIds">(B, L) int64, L ≤ max_position_embeddings.</param>
    /// <returns>(B, L, D).</returns>
    public override Tensor forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        long length = inputIds.shape[1];
        // Positions 0..L−1, the rows transformers' position_ids buffer selects.
        var positions = position_embedding.weight!.narrow(0, 0, length).unsqueeze(0);
        return (token_embedding.call(inputIds) + positions).MoveToOuterDisposeScope();
    }
}
