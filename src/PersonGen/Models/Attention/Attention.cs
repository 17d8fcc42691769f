using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Attention;

/// <summary>
/// The one attention layer of PersonGen (diffusers <c>Attention</c>: <c>to_q</c>, <c>to_k</c>, <c>to_v</c>,
/// <c>to_out.0</c>, and for the VAE an optional <c>group_norm</c> and residual). Without a hook, or when the hook
/// does not need probabilities at this site, it runs <c>scaled_dot_product_attention</c>; otherwise it computes
/// P = softmax(QKᵀ·d^-½) of shape (B, heads, Lq, Lk), lets <see cref="IAttentionHook.OnProbabilities"/> see or replace
/// it, and computes P·V. With a hook installed, the (B, Lq, heads·d) output before <c>to_out</c> always passes
/// through <see cref="IAttentionHook.OnOutput"/>.
/// Tensors handed to a hook belong to this layer's dispose scope: a hook that keeps one must copy it and call
/// <c>DetachFromDisposeScope()</c> on the copy.
/// </summary>
public sealed class Attention : Module
{
    // Field order is state-dict order: group_norm, to_q, to_k, to_v, to_out.
    public readonly GroupNorm? group_norm;
    public readonly Linear to_q;
    public readonly Linear to_k;
    public readonly Linear to_v;
    public readonly ModuleList<Module<Tensor, Tensor>> to_out;

    private readonly double _scale;

    /// <summary>Creates the layer; <paramref name="path"/> is its dotted diffusers name (models set it after building).</summary>
    public Attention(AttentionConfig config, string path = "", Device? device = null, ScalarType? dtype = null)
        : base(nameof(Attention))
    {
        Config = config;
        Path = path;
        int keyDim = config.CrossAttentionDim ?? config.QueryDim;
        if (config.NormGroups is { } groups)
            group_norm = GroupNorms.Create(groups, config.QueryDim, config.NormEps, device, dtype);
        to_q = Linear(config.QueryDim, config.InnerDim, hasBias: config.QkvBias, device: device, dtype: dtype);
        to_k = Linear(keyDim, config.InnerDim, hasBias: config.QkvBias, device: device, dtype: dtype);
        to_v = Linear(keyDim, config.InnerDim, hasBias: config.QkvBias, device: device, dtype: dtype);
        to_out = new ModuleList<Module<Tensor, Tensor>>(
            Linear(config.InnerDim, config.QueryDim, hasBias: config.OutBias, device: device, dtype: dtype),
            Dropout(0.0));
        _scale = 1.0 / Math.Sqrt(config.HeadDim);
        RegisterComponents();
    }

    public AttentionConfig Config { get; }

    /// <summary>Dotted diffusers path of this layer, e.g. <c>up_blocks.1.attentions.0.transformer_blocks.0.attn2</c>.</summary>
    public string Path { get; internal set; }

    /// <summary>The hook this layer calls, or null for the plain fast path.</summary>
    public IAttentionHook? Hook { get; set; }

    /// <summary>
    /// Attention over tokens: <paramref name="hiddenStates"/> (B, Lq = height·width, C) attends to
    /// <paramref name="encoderHiddenStates"/> (B, Lk, D) (cross-attention) or to itself when that is null.
    /// Returns (B, Lq, C).
    /// </summary>
    public Tensor forward(Tensor hiddenStates, Tensor? encoderHiddenStates, int height, int width)
    {
        using var scope = NewDisposeScope();
        var context = encoderHiddenStates ?? hiddenStates;
        long batch = hiddenStates.shape[0], queries = hiddenStates.shape[1], keys = context.shape[1];
        if (queries != (long)height * width)
            throw new ArgumentException($"{Path}: {queries} query tokens do not form a {height}×{width} grid");
        var q = SplitHeads(to_q.call(hiddenStates)); // (B, heads, Lq, d)
        var k = SplitHeads(to_k.call(context));      // (B, heads, Lk, d)
        var v = SplitHeads(to_v.call(context));      // (B, heads, Lk, d)

        var hook = Hook;
        var site = hook is null
            ? null
            : new AttentionSite(Path, encoderHiddenStates is null ? AttentionKind.Self : AttentionKind.Cross,
                Config.Heads, height, width, (int)keys);
        var attended = site is not null && hook!.NeedsProbabilities(site)
            ? AttendExplicitly(q, k, v, hook, site)
            : AttendFast(q, k, v);
        var output = attended.transpose(1, 2).reshape(batch, queries, Config.InnerDim); // (B, Lq, heads·d)
        if (site is not null) output = Checked(hook!.OnOutput(site, output), output.shape, "output", site);
        foreach (var layer in to_out) output = layer.call(output); // projection, dropout
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Spatial self-attention over an image (the VAE mid block): (B, C, H, W) → (B, C, H, W), with the optional
    /// <c>group_norm</c> before the projections and the optional residual after <c>to_out</c>.
    /// </summary>
    public Tensor forward(Tensor image)
    {
        using var scope = NewDisposeScope();
        long batch = image.shape[0], channels = image.shape[1];
        int height = (int)image.shape[2], width = (int)image.shape[3];
        var tokens = image.reshape(batch, channels, (long)height * width); // (B, C, HW)
        if (group_norm is not null) tokens = group_norm.call(tokens);
        var attended = forward(tokens.transpose(1, 2), null, height, width); // (B, HW, C)
        var result = attended.transpose(1, 2).reshape(batch, channels, height, width);
        if (Config.ResidualConnection) result = result + image;
        return result.MoveToOuterDisposeScope();
    }

    private Tensor SplitHeads(Tensor x) => // (B, L, heads·d) → (B, heads, L, d)
        x.view(x.shape[0], x.shape[1], Config.Heads, Config.HeadDim).transpose(1, 2);

    private bool Upcasts(Tensor q) =>
        Config.UpcastAttention && q.dtype is ScalarType.Float16 or ScalarType.BFloat16;

    private Tensor AttendFast(Tensor q, Tensor k, Tensor v)
    {
        if (!Upcasts(q)) return functional.scaled_dot_product_attention(q, k, v);
        var dtype = q.dtype;
        return functional.scaled_dot_product_attention(q.to_type(ScalarType.Float32), k.to_type(ScalarType.Float32),
            v.to_type(ScalarType.Float32)).to_type(dtype);
    }

    /// <summary>Largest probability tensor materialised at once (elements, 256 MB in float32); larger ones go in query chunks.</summary>
    public long ProbabilityChunkElements { get; set; } = 1L << 26;

    private Tensor AttendExplicitly(Tensor q, Tensor k, Tensor v, IAttentionHook hook, AttentionSite site)
    {
        if (Upcasts(q))
        {
            q = q.to_type(ScalarType.Float32);
            k = k.to_type(ScalarType.Float32);
        }
        long perQuery = q.shape[0] * q.shape[1] * k.shape[2];
        int queries = (int)q.shape[2];
        int chunk = (int)Math.Clamp(ProbabilityChunkElements / Math.Max(1, perQuery), 1, queries);
        var outputs = new List<Tensor>();
        for (int start = 0; start < queries; start += chunk)
        {
            using var chunkScope = NewDisposeScope(); // frees each chunk's probabilities before the next is made
            int count = Math.Min(chunk, queries - start);
            var chunkSite = count == queries ? site : site with { QueryStart = start, QueryCount = count };
            var probabilities = q.narrow(2, start, count).matmul(k.transpose(-1, -2)).mul_(_scale).softmax(-1); // (B, heads, chunk, Lk)
            probabilities = Checked(hook.OnProbabilities(chunkSite, probabilities), probabilities.shape, "probabilities", site);
            outputs.Add(probabilities.to_type(v.dtype).matmul(v).MoveToOuterDisposeScope()); // (B, heads, chunk, d)
        }
        return outputs.Count == 1 ? outputs[0] : cat(outputs, 2);
    }

    private static Tensor Checked(Tensor returned, long[] expected, string what, AttentionSite site) =>
        returned.shape.SequenceEqual(expected)
            ? returned
            : throw new PersonGenException(
                $"attention hook returned {what} of shape [{string.Join(",", returned.shape)}] at {site.Path}; " +
                $"it must keep the shape [{string.Join(",", expected)}]");
}
