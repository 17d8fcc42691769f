using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Training.Methods;

/// <summary>
/// SVDiff spectral shifts on every Linear/Conv/Embedding/LayerNorm/GroupNorm of the UNet and text encoder.
/// A weight W is viewed as a matrix [out, in·kh·kw] (norm γ as [1, C]); its SVD U·diag(Σ)·Vᵀ is computed once,
/// and the trainable shift δ (one per singular value, one scalar for a norm) gives U·diag(relu(Σ+δ))·Vᵀ.
/// It is evaluated as W + U·diag(relu(Σ+δ) − Σ)·Vᵀ: the same function and gradient, but δ = 0 reproduces W
/// bitwise instead of up to the SVD's reconstruction error. Checkpoint keys: <c>component.&lt;module path&gt;.delta</c>.
/// </summary>
public sealed class SvdiffDelta : ConceptDelta
{
    public const double DefaultLearningRate = 1e-3;
    public const double DefaultNormLearningRate = 1e-6;
    private static readonly string[] QkvNames = ["to_q", "to_k", "to_v", "q_proj", "k_proj", "v_proj"];
    private readonly List<Tensor> _factors = [];

    /// <para>model: The model to wrap (in place).</para>
    /// <para>includeTextEncoder: Also shift the text encoder's layers (the paper's setting).</para>
    /// <para>qkvOnly: Only layers whose path contains to_q/to_k/to_v/q_proj/k_proj/v_proj.</para>
    public SvdiffDelta(ConceptModel model, bool includeTextEncoder = true, bool qkvOnly = false,
        double learningRate = DefaultLearningRate, double normLearningRate = DefaultNormLearningRate) : base(model)
    {
        IncludesTextEncoder = includeTextEncoder && model.TextEncoder is not null;
        foreach (var (component, root) in model.Components())
        {
            if (component == ConceptModel.TextEncoderComponent && !IncludesTextEncoder) continue;
            foreach (var (path, layer) in ModuleTree.WeightedLayers(root))
            {
                if (qkvOnly && !QkvNames.Any(path.Contains)) continue;
                Wrap(component, path, ModuleTree.IsNorm(layer), ModuleTree.Weight(layer)!, learningRate, normLearningRate);
            }
        }
    }

    public bool IncludesTextEncoder { get; }

    public override string Method => "svdiff";

    private void Wrap(string component, string path, bool isNorm, Tensor weight, double learningRate, double normLearningRate)
    {
        Tensor u, s, vh;
        using (var noGrad = torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        {
            var matrix = isNorm ? weight.reshape(1, -1) : weight.reshape(weight.shape[0], -1);
            var (uu, ss, vv) = torch.linalg.svd(matrix.to_type(ScalarType.Float32), fullMatrices: false);
            u = uu.contiguous().MoveToOuterDisposeScope();
            s = ss.contiguous().MoveToOuterDisposeScope();
            vh = vv.contiguous().MoveToOuterDisposeScope();
        }
        _factors.AddRange([u, s, vh]);
        string key = $"{component}.{path}.delta";
        // The reference's group rule: a shift whose name contains "norm" belongs to the 1-d (norm scalar) group.
        bool oneD = key.Contains("norm", StringComparison.Ordinal);
        var delta = AddTrainable(key, oneD ? "unet+text_encoder 1d" : "unet+text_encoder",
            oneD ? normLearningRate : learningRate, torch.zeros_like(s));
        long[] shape = weight.shape;
        AddTarget(component, path + ".weight",
            original => original + (u * (torch.nn.functional.relu(s + delta) - s)).matmul(vh).reshape(shape));
    }

    /// <summary>The fused weight U·diag(relu(Σ+δ))·Vᵀ reshaped like <paramref name="weight"/> (norm: γ′ = relu(‖γ‖+δ)·γ/‖γ‖).</summary>
    public static Tensor FusedWeight(Tensor weight, Tensor delta, bool isNorm)
    {
        using var scope = torch.NewDisposeScope();
        var matrix = isNorm ? weight.reshape(1, -1) : weight.reshape(weight.shape[0], -1);
        var (u, s, vh) = torch.linalg.svd(matrix.to_type(ScalarType.Float32), fullMatrices: false);
        var fused = weight + (u * (torch.nn.functional.relu(s + delta) - s)).matmul(vh).reshape(weight.shape);
        return fused.MoveToOuterDisposeScope();
    }

    protected override void ReleaseTrainingState()
    {
        foreach (var factor in _factors) factor.Dispose();
        _factors.Clear();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) ReleaseTrainingState();
        base.Dispose(disposing);
    }
}
