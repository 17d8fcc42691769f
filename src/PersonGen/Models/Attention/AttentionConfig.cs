namespace PersonGen.Models.Attention;

/// <summary>
/// Shape and options of one <see cref="Attention"/> layer, as diffusers' <c>Attention</c> constructor takes them.
/// </summary>
/// <param name="QueryDim">Channels C of the query tokens (and of the output).</param>
/// <param name="Heads">Number of heads; the inner width is Heads·HeadDim.</param>
/// <param name="HeadDim">Channels per head d (the scale is d^-½).</param>
/// <param name="CrossAttentionDim">Channels of the key/value tokens for cross-attention; null for self-attention.</param>
/// <param name="QkvBias">Whether <c>to_q/to_k/to_v</c> have biases (false in the UNet, true in the VAE).</param>
/// <param name="OutBias">Whether <c>to_out.0</c> has a bias.</param>
/// <param name="UpcastAttention">Compute QKᵀ and the softmax in float32 when the model runs in half precision.</param>
/// <param name="NormGroups">When set, a <c>group_norm</c> over the channels precedes the projections (VAE mid block).</param>
/// <param name="NormEps">Epsilon of that group norm.</param>
/// <param name="ResidualConnection">Add the layer's input to its output (VAE mid block).</param>
public sealed record AttentionConfig(
    int QueryDim,
    int Heads,
    int HeadDim,
    int? CrossAttentionDim = null,
    bool QkvBias = false,
    bool OutBias = true,
    bool UpcastAttention = false,
    int? NormGroups = null,
    double NormEps = 1e-5,
    bool ResidualConnection = false)
{
    /// <summary>Heads·HeadDim, the width of Q, K and V.</summary>
    public int InnerDim => Heads * HeadDim;
}
