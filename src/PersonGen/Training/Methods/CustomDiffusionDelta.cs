using static TorchSharp.torch;

namespace PersonGen.Training.Methods;

/// <summary>
/// Custom Diffusion: a new placeholder token's embedding row plus the cross-attention (attn2) to_k/to_v weights
/// (with trainQueryAndOut also to_q and to_out.0). Checkpoint keys follow diffusers' attention
/// processor layout (<c>…attn2.processor.to_k_custom_diffusion.weight</c>, <c>…to_out_custom_diffusion.0.bias</c>)
/// and the token's embedding is stored under the token itself, as <c>learned_embeds</c> files do.
/// </summary>
public sealed class CustomDiffusionDelta : ConceptDelta
{
    public const double DefaultLearningRate = 1e-5;
    private static readonly (string Model, string Processor)[] KeyValue = [("to_k", "to_k_custom_diffusion"), ("to_v", "to_v_custom_diffusion")];
    private static readonly (string Model, string Processor)[] QueryOut = [("to_q", "to_q_custom_diffusion"), ("to_out.0", "to_out_custom_diffusion.0")];

    public CustomDiffusionDelta(ConceptModel model, string token, string? initializer, bool trainQueryAndOut = false,
        double learningRate = DefaultLearningRate, bool requireNewToken = true) : base(model)
    {
        Token = token;
        TrainsQueryAndOut = trainQueryAndOut;
        var parameters = ModuleTree.Parameters(model.Unet);
        var crossAttentions = model.Unet.named_modules().Select(m => m.name)
            .Where(n => n == "attn2" || n.EndsWith(".attn2", StringComparison.Ordinal)).ToList();
        if (crossAttentions.Count == 0) throw new ModelLoadException("Custom Diffusion found no cross-attention (attn2) modules in the UNet: use a Stable Diffusion UNet");
        var projections = trainQueryAndOut ? KeyValue.Concat(QueryOut).ToArray() : KeyValue;
        foreach (var attention in crossAttentions)
        {
            foreach (var (modelName, processorName) in projections)
            {
                foreach (var kind in new[] { "weight", "bias" })
                {
                    string name = $"{attention}.{modelName}.{kind}";
                    if (!parameters.ContainsKey(name)) continue;
                    AddDirectTarget(ConceptModel.UnetComponent, name, $"{attention}.processor.{processorName}.{kind}", "custom_diffusion", learningRate);
                }
            }
        }
        TokenIds = PlaceholderTokens.Ensure(model, token, 1, initializer, requireNewToken);
        AddTokenRows(TokenIds, token, learningRate);
    }

    public string Token { get; }
    public long[] TokenIds { get; }
    public bool TrainsQueryAndOut { get; }
    public override string Method => "custom-diffusion";

    public override IReadOnlyDictionary<string, string> MethodMetadata =>
        new Dictionary<string, string> { ["freeze_model"] = TrainsQueryAndOut ? "crossattn" : "crossattn_kv" };
}
