namespace PersonGen.Models.Attention;

/// <summary>Whether an attention layer attends over the image itself or over the text.</summary>
public enum AttentionKind
{
    /// <summary>diffusers <c>attn1</c>: queries, keys and values all come from the image tokens.</summary>
    Self,

    /// <summary>diffusers <c>attn2</c>: keys and values come from the text encoder's hidden states.</summary>
    Cross,
}

/// <summary>
/// Identifies one attention call: the layer's dotted diffusers path (for example
/// <c>up_blocks.1.attentions.0.transformer_blocks.0.attn2</c>), its kind, head count and the spatial
/// size of its image tokens (QueryLength = Height·Width). Large probability tensors are handed to a hook in chunks of
/// queries: rows [QueryStart, QueryStart + QueryCount) of the Height·Width query tokens.
/// </summary>
public sealed record AttentionSite(string Path, AttentionKind Kind, int Heads, int Height, int Width, int KeyLength)
{
    public int QueryLength => Height * Width;

    /// <summary>First query token of the probabilities this call hands over.</summary>
    public int QueryStart { get; init; }

    /// <summary>Query tokens in the probabilities this call hands over; null = all of them (not chunked).</summary>
    public int? QueryCount { get; init; }

    /// <summary>True when this call holds the last chunk of queries (always true when not chunked).</summary>
    public bool IsLastChunk => QueryStart + Queries >= QueryLength;

    /// <summary>The number of query tokens this call covers.</summary>
    public int Queries => QueryCount ?? QueryLength;
}
