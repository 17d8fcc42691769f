using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>
/// transformers' <c>CLIPVisionModelWithProjection</c> (keys <c>vision_model.…</c>, <c>visual_projection</c>), the image
/// tower of the CLIP metrics: image embeds = visual_projection(post_layernorm(class token)).
/// </summary>
public sealed class ClipVisionModelWithProjection : nn.Module<Tensor, ClipVisionOutput>
{
    public ClipVisionTransformer vision_model;
    public Linear visual_projection;

    public ClipVisionModelWithProjection(ClipVisionConfig config, Device? device = null, ScalarType? dtype = null)
        : base(nameof(ClipVisionModelWithProjection))
    {
        Config = config;
        vision_model = new ClipVisionTransformer(config, device, dtype);
        visual_projection = nn.Linear(config.HiddenSize, config.ProjectionDim, hasBias: false, device: device, dtype: dtype);
        RegisterComponents();
    }

    public ClipVisionConfig Config { get; }

    private static readonly IReadOnlySet<string> IgnoredKeys = new HashSet<string> { "vision_model.embeddings.position_ids" };

    /// <summary>Builds the model from <c>componentDir/config.json</c> and loads its safetensors weights strictly.</summary>
    /// <exception cref="ModelLoadException">Missing config or weights, or keys/shapes that differ (listed by name).</exception>
    public static ClipVisionModelWithProjection Load(string componentDir, ScalarType dtype, Device device)
    {
        return StateDictLoader.LoadNew(new ClipVisionModelWithProjection(ClipVisionConfig.FromFolder(componentDir), device, dtype), componentDir, IgnoredKeys);
    }

    /// <param name="pixelValues">(B, C, image_size, image_size), already CLIP-normalised.</param>
    public override ClipVisionOutput forward(Tensor pixelValues) => forward(pixelValues, false);

    /// <summary>Encodes images.</summary>
    /// <param name="pixelValues">(B, C, image_size, image_size), already CLIP-normalised.</param>
    /// <param name="outputHiddenStates">Also return every layer's hidden state.</param>
    public ClipVisionOutput forward(Tensor pixelValues, bool outputHiddenStates)
    {
        var states = outputHiddenStates ? new List<Tensor>() : null;
        var (last, pooled) = vision_model.forward(pixelValues, states);
        using (pooled)
        {
            return new ClipVisionOutput(visual_projection.call(pooled), last, states ?? []);
        }
    }
}
