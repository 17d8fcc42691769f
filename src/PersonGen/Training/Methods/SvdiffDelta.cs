using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Training.Methods;

/// <summary>
/// SVDiff spectral shifts on every Linear/Conv/Embedding/LayerNorm/GroupNorm of the UNet and text encoder.
/// A weight W is viewed as a matrix [out, in·kh·kw] (norm γ as [1, C]); its SVD U·diag(Σ)·Vᵀ is computed once,
/// and the trainable shift δ (one per singular value, one scalar for a norm) gives U·diag(relu(Σ+δ))·Vᵀ.
/// It is evaluated as W + U·diag(max(δ, −Σ))·Vᵀ (max(δ, −Σ) = relu(Σ+δ) − Σ): the same function and gradient, but
/// δ = 0 reproduces W bitwise instead of up to the SVD's reconstruction error. Training uses the closed-form
/// gradient dL/dδ = 1[Σ+δ &gt; 0] ⊙ diag(Uᵀ·G·V) (G = dL/dW′ as a matrix) instead of autograd through that product.
/// Checkpoint keys: <c>component.&lt;module path&gt;.delta</c>.
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
        Tensor u, negS, vh;
        long rows = isNorm ? 1 : weight.shape[0];
        using (var noGrad = torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        {
            var (uu, ss, vv) = torch.linalg.svd(weight.reshape(rows, -1).to_type(ScalarType.Float32), fullMatrices: false);
            u = uu.contiguous().MoveToOuterDisposeScope();
            negS = ss.neg().contiguous().MoveToOuterDisposeScope();
            vh = vv.contiguous().MoveToOuterDisposeScope();
        }
        _factors.AddRange([u, negS, vh]);
        string key = $"{component}.{path}.delta";
        // The reference's group rule: a shift whose name contains "norm" belongs to the 1-d (norm scalar) group.
        bool oneD = key.Contains("norm", StringComparison.Ordinal);
        var delta = AddTrainable(key, oneD ? "unet+text_encoder 1d" : "unet+text_encoder",
            oneD ? normLearningRate : learningRate, torch.zeros_like(negS));
        long[] shape = weight.shape;
        AddTarget(component, path + ".weight",
            original => Shifted(original.reshape(rows, -1), u, negS, vh, delta).reshape(shape),
            new ClosedFormGradient(delta, gradient => (u * gradient.reshape(rows, -1).matmul(vh.t())).sum(dim: 0).masked_fill(delta.le(negS), 0)));
    }

    /// <summary>W + U·diag(max(δ, −Σ))·Vᵀ in float32 for W [rows, K], U [rows, r], −Σ and δ [r], Vᵀ [r, K].</summary>
    private static Tensor Shifted(Tensor matrix, Tensor u, Tensor negS, Tensor vh, Tensor delta) =>
        torch.addmm(matrix.to_type(ScalarType.Float32), u * torch.maximum(delta, negS), vh, beta: 1, alpha: 1);

    /// <summary>The fused weight U·diag(relu(Σ+δ))·Vᵀ reshaped like <paramref name="weight"/> (norm: γ′ = relu(‖γ‖+δ)·γ/‖γ‖).</summary>
    public static Tensor FusedWeight(Tensor weight, Tensor delta, bool isNorm)
    {
        using var scope = torch.NewDisposeScope();
        var matrix = isNorm ? weight.reshape(1, -1) : weight.reshape(weight.shape[0], -1);
        var (u, s, vh) = torch.linalg.svd(matrix.to_type(ScalarType.Float32), fullMatrices: false);
        return Shifted(matrix, u, s.neg(), vh, delta).reshape(weight.shape).MoveToOuterDisposeScope();
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
