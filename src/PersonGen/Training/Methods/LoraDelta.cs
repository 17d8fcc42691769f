using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Training.Methods;

/// <summary>
/// LoRA on the attention projections (UNet to_q/to_k/to_v/to_out.0, CLIP q_proj/k_proj/v_proj/out_proj):
/// W' = W + (alpha/rank)·B·A with A [rank, in] (Kaiming-uniform) and B [out, rank] = 0. Checkpoint keys follow the
/// diffusers/PEFT layout: <c>unet.&lt;path&gt;.lora_A.weight</c>, <c>text_encoder.&lt;path&gt;.lora_B.weight</c>.
/// </summary>
public sealed class LoraDelta : ConceptDelta
{
    public const double DefaultLearningRate = 1e-4;
    private static readonly string[] Projections = ["to_q", "to_k", "to_v", "to_out.0", "q_proj", "k_proj", "v_proj", "out_proj"];

    /// <para>rank: Inner dimension r of B·A.</para>
    /// <para>alpha: Scale numerator (default = rank, i.e. scale 1).</para>
    /// <para>seed: Seed of A's initialisation.</para>
    public LoraDelta(ConceptModel model, int rank = 4, double? alpha = null, bool includeTextEncoder = true,
        double learningRate = DefaultLearningRate, long seed = 0) : base(model)
    {
        if (rank < 1) throw new InvalidInputException($"LoRA rank {rank} must be at least 1: pass `rank` 4 or similar");
        Rank = rank;
        Alpha = alpha ?? rank;
        IncludesTextEncoder = includeTextEncoder && model.TextEncoder is not null;
        double scale = Alpha / Rank;
        using var generator = new torch.Generator((ulong)seed);
        foreach (var (component, root) in model.Components())
        {
            if (component == ConceptModel.TextEncoderComponent && !IncludesTextEncoder) continue;
            foreach (var (path, layer) in ModuleTree.WeightedLayers(root))
            {
                if (layer is not TorchSharp.Modules.Linear || !Projections.Any(p => path == p || path.EndsWith("." + p, StringComparison.Ordinal))) continue;
                var weight = ModuleTree.Weight(layer)!;
                long outFeatures = weight.shape[0], inFeatures = weight.shape[1];
                double bound = 1.0 / Math.Sqrt(inFeatures);
                using var initialA = torch.rand([rank, inFeatures], generator: generator) * (2 * bound) - bound;
                using var initialB = torch.zeros(outFeatures, rank);
                var a = AddTrainable($"{component}.{path}.lora_A.weight", "lora", learningRate, initialA);
                var b = AddTrainable($"{component}.{path}.lora_B.weight", "lora", learningRate, initialB);
                AddTarget(component, path + ".weight", original => original + b.matmul(a) * scale);
            }
        }
        if (Trainables.Count == 0) throw new ModelLoadException("LoRA found no attention projections (to_q/to_k/to_v/to_out.0, q_proj/k_proj/v_proj/out_proj) in the model: use a Stable Diffusion UNet");
    }

    public int Rank { get; }
    public double Alpha { get; }
    public bool IncludesTextEncoder { get; }
    public override string Method => "lora";

    public override IReadOnlyDictionary<string, string> MethodMetadata => new Dictionary<string, string>
    {
        ["lora_rank"] = Rank.ToString(CultureInfo.InvariantCulture),
        ["lora_alpha"] = Alpha.ToString("R", CultureInfo.InvariantCulture),
    };
}
