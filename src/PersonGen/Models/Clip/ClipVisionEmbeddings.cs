using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>transformers' <c>CLIPVisionEmbeddings</c>: class token + non-overlapping patch projection + position embedding.</summary>
public sealed class ClipVisionEmbeddings : nn.Module<Tensor, Tensor>
{
    public Parameter class_embedding;
    public Conv2d patch_embedding;
    public Embedding position_embedding;

    public ClipVisionEmbeddings(ClipVisionConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(ClipVisionEmbeddings))
    {
        class_embedding = nn.Parameter(randn([config.HiddenSize], dtype: dtype, device: device));
        patch_embedding = nn.Conv2d(config.NumChannels, config.HiddenSize, config.PatchSize, stride: config.PatchSize, bias: false,
            device: device, dtype: dtype);
        position_embedding = nn.Embedding(config.GridSize * config.GridSize + 1, config.HiddenSize, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <param name="pixelValues">(B, C, image_size, image_size), already CLIP-normalised.</param>
    /// <returns>(B, 1 + grid², D).</returns>
    public override Tensor forward(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        // (B, D, g, g) → (B, g², D)
        var patches = patch_embedding.call(pixelValues.to_type(patch_embedding.weight!.dtype)).flatten(2).transpose(1, 2);
        var classToken = class_embedding.view(1, 1, -1).expand(patches.shape[0], 1, -1);
        var tokens = cat([classToken, patches], 1);
        return (tokens + position_embedding.weight!.unsqueeze(0)).MoveToOuterDisposeScope();
    }
}
