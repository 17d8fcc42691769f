using static TorchSharp.torch;

namespace PersonGen.Training.Methods;

/// <summary>Which parameters DreamBooth trains.</summary>
public enum DreamBoothScope
{
    /// <summary>Every parameter whose name contains to_q/to_k/to_v/q_proj/k_proj/v_proj (the paper's setting).</summary>
    QkvProjections,
    /// <summary>Every parameter of the UNet, and of the text encoder when it is included.</summary>
    AllParameters,
}

/// <summary>
/// DreamBooth: model parameters trained directly (q/k/v projections by default, or everything; <c>full</c> is the
/// latter under another name, for training small models from scratch). Checkpoint keys: <c>component.&lt;name&gt;</c>.
/// </summary>
public sealed class DreamBoothDelta : ConceptDelta
{
    public const double DefaultLearningRate = 2e-5;
    private static readonly string[] QkvNames = ["to_q", "to_k", "to_v", "q_proj", "k_proj", "v_proj"];

    /// <para>method: "dreambooth" or "full" (the name written to checkpoints).</para>
    public DreamBoothDelta(ConceptModel model, DreamBoothScope scope = DreamBoothScope.QkvProjections,
        bool includeTextEncoder = true, double learningRate = DefaultLearningRate, string method = "dreambooth") : base(model)
    {
        Scope = scope;
        Method = method;
        IncludesTextEncoder = includeTextEncoder && model.TextEncoder is not null;
        foreach (var (component, root) in model.Components())
        {
            if (component == ConceptModel.TextEncoderComponent && !IncludesTextEncoder) continue;
            foreach (var (name, _) in root.named_parameters())
            {
                if (scope == DreamBoothScope.QkvProjections && !QkvNames.Any(name.Contains)) continue;
                AddDirectTarget(component, name, $"{component}.{name}", component, learningRate);
            }
        }
    }

    public DreamBoothScope Scope { get; }
    public bool IncludesTextEncoder { get; }
    public override string Method { get; }

    public override IReadOnlyDictionary<string, string> MethodMetadata =>
        new Dictionary<string, string> { ["scope"] = Scope == DreamBoothScope.QkvProjections ? "qkv" : "all" };
}
