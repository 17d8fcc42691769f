using static TorchSharp.torch;

namespace PersonGen.Models.Attention;

/// <summary>
/// Observes or edits attention inside a model's forward pass. The model calls the hook on every attention
/// layer while it is installed; a layer computes explicit softmax(QKᵀ/√d) probabilities only where
/// <see cref="NeedsProbabilities"/> says so, and otherwise takes the scaled-dot-product fast path.
/// Rows of the batch are whatever the caller put there: the hook knows the batch layout, the model does not.
/// </summary>
public interface IAttentionHook
{
    /// <summary>True when this call at <paramref name="site"/> must materialise attention probabilities.</summary>
    bool NeedsProbabilities(AttentionSite site);

    /// <summary>
    /// Sees the probabilities, shape (batch, heads, queries, keys), and returns the ones to use: the same
    /// tensor, or a replacement of that shape (for example with one block of rows copied from another).
    /// </summary>
    Tensor OnProbabilities(AttentionSite site, Tensor probabilities);

    /// <summary>
    /// Sees the attention output before the output projection (<c>to_out</c>), shape (batch, queries, channels),
    /// and returns the one to use: the same tensor, or a replacement of that shape.
    /// </summary>
    Tensor OnOutput(AttentionSite site, Tensor output);
}
