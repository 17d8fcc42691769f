using PersonGen.Diffusion;
using PersonGen.Models.Attention;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PersonGen.Sampling;

/// <summary>
/// Captures, in one UNet call, the cross-attention map of chosen token positions in one branch's rows: per layer the
/// probabilities averaged over heads (and over the positions), resized bilinearly to the latent size; the result is
/// the mean over all cross-attention layers, (N, 1, H, W).
/// </summary>
public sealed class CrossAttentionMapCapture : IAttentionHook
{
    private readonly int _start;
    private readonly int _rows;
    private readonly IReadOnlyList<int> _positions;
    private readonly long _height;
    private readonly long _width;
    private Tensor? _sum;
    private Tensor? _pending;
    private int _layers;

    public CrossAttentionMapCapture(BranchLayout layout, Branch branch, IReadOnlyList<int> positions, long height, long width)
    {
        (_start, _rows) = layout[branch];
        _positions = positions;
        _height = height;
        _width = width;
    }

    public bool NeedsProbabilities(AttentionSite site) => site.Kind == AttentionKind.Cross;

    public Tensor OnProbabilities(AttentionSite site, Tensor probabilities)
    {
        if (site.Kind != AttentionKind.Cross) return probabilities;
        // (rows, heads, queries, keys) → mean over heads → (rows, queries, |positions|) → mean over positions.
        var tokens = probabilities.narrow(0, _start, _rows).mean([1])
            .index_select(2, tensor(_positions.Select(p => (long)p).ToArray(), device: probabilities.device));
        var chunk = tokens.mean([2]).to_type(ScalarType.Float32); // (rows, queries of this chunk)
        if (site.Queries == site.QueryLength)
        {
            Accumulate(site, chunk);
            return probabilities;
        }
        // Probabilities arrive in query chunks: collect the layer's whole map before using it.
        _pending = _pending is null ? chunk.DetachFromDisposeScope() : Replace(_pending, cat([_pending, chunk], 1));
        if (site.IsLastChunk)
        {
            using var whole = _pending;
            _pending = null;
            Accumulate(site, whole);
        }
        return probabilities;
    }

    private void Accumulate(AttentionSite site, Tensor map)
    {
        using var scope = NewDisposeScope();
        var heat = map.reshape(_rows, 1, site.Height, site.Width);
        var resized = F.interpolate(heat, [_height, _width], mode: InterpolationMode.Bilinear, align_corners: false);
        _sum = _sum is null ? resized.DetachFromDisposeScope() : Replace(_sum, _sum + resized);
        _layers++;
    }

    public Tensor OnOutput(AttentionSite site, Tensor output) => output;

    /// <summary>The mean map over the layers seen, (N, 1, H, W); releases the running sum. Throws if no cross-attention was seen.</summary>
    public Tensor TakeMap()
    {
        if (_sum is null) throw new InvalidOperationException("no cross-attention layer was seen; the model has no cross-attention to build a mask from");
        var map = _sum / _layers;
        _sum.Dispose();
        _sum = null;
        return map;
    }

    private static Tensor Replace(Tensor old, Tensor next)
    {
        next.DetachFromDisposeScope();
        old.Dispose();
        return next;
    }
}
