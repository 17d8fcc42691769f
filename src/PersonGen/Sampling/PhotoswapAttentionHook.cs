using PersonGen.Diffusion;
using PersonGen.Models.Attention;
using static TorchSharp.torch;

namespace PersonGen.Sampling;

/// <summary>How Photoswap copies superclass cross-attention maps into the concept branch.</summary>
public enum TokenAlignment
{
    /// <summary>
    /// Key columns re-aligned around the placeholder: each concept token takes the map of the same word in the
    /// superclass prompt, the placeholder takes the class word's map, and rows are renormalised to sum to 1.
    /// </summary>
    Corrected,

    /// <summary>Columns copied position by position, as the reference code does (offset by the placeholder's length).</summary>
    Reference,
}

/// <summary>
/// Photoswap's attention edits for one UNet call: the concept rows take the superclass rows' self-attention output
/// (before <c>to_out</c>) when <paramref name="selfFeatures"/>, their cross-attention maps when <paramref name="crossMaps"/>,
/// and their self-attention maps when <paramref name="selfMaps"/>, in every attention layer.
/// </summary>
public sealed class PhotoswapAttentionHook(BranchLayout layout, Branch target, Branch source,
    bool selfFeatures, bool crossMaps, bool selfMaps, TokenAlignment alignment, IReadOnlyList<int> placeholderPositions) : IAttentionHook
{
    public bool NeedsProbabilities(AttentionSite site) =>
        site.Kind == AttentionKind.Cross ? crossMaps : selfMaps;

    public Tensor OnProbabilities(AttentionSite site, Tensor probabilities)
    {
        if (!NeedsProbabilities(site)) return probabilities;
        var donor = probabilities.narrow(0, layout.Start(source), layout.RowsPerBranch);
        if (site.Kind == AttentionKind.Cross && alignment == TokenAlignment.Corrected)
            donor = AlignColumns(donor);
        // In place: the layer made these probabilities for this call only, and a copy of a self-attention map is large.
        probabilities.narrow(0, layout.Start(target), layout.RowsPerBranch).copy_(donor);
        return probabilities;
    }

    public Tensor OnOutput(AttentionSite site, Tensor output) =>
        site.Kind == AttentionKind.Self && selfFeatures
            ? ReplaceRows(output, output.narrow(0, layout.Start(source), layout.RowsPerBranch))
            : output;

    private Tensor ReplaceRows(Tensor all, Tensor donor)
    {
        var edited = all.clone();
        edited.narrow(0, layout.Start(target), layout.RowsPerBranch).copy_(donor);
        return edited;
    }

    /// <summary>Maps superclass key columns onto the concept prompt's token positions (…, keys).</summary>
    private Tensor AlignColumns(Tensor superclassMaps)
    {
        long keys = superclassMaps.shape[^1];
        int first = placeholderPositions[0];
        int length = placeholderPositions.Count;
        var columns = new long[keys];
        for (long j = 0; j < keys; j++)
            columns[j] = j < first ? j : j < first + length ? first : Math.Min(j - length, keys - 1);
        var aligned = superclassMaps.index_select(-1, tensor(columns, device: superclassMaps.device));
        return aligned / aligned.sum(-1, keepdim: true);
    }
}
