using System.Globalization;
using PersonGen.Training.Methods;
using TorchSharp;

namespace PersonGen.Training.Formats;

/// <summary>
/// A LoRA read from a file, for inference: any Linear or Conv2d layer, each with its own rank and alpha, scaled by a
/// user multiplier. Trainable keys are the canonical <see cref="LoraLayer.DownKey"/>/<see cref="LoraLayer.UpKey"/>.
/// </summary>
public sealed class LoraLayersDelta : ConceptDelta
{
    private readonly IReadOnlyList<LoraLayer> _layers;

    /// <para>multiplier: Scales every layer's update (A1111's <c>&lt;lora:name:0.8&gt;</c>).</para>
    /// <exception cref="ModelLoadException">A layer is missing from the model or has another shape.</exception>
    public LoraLayersDelta(ConceptModel model, IReadOnlyList<LoraLayer> layers, double multiplier = 1) : base(model)
    {
        if (layers.Count == 0) throw new ModelLoadException("the LoRA file holds no layers: pass a LoRA trained for this model");
        _layers = layers;
        foreach (var layer in layers)
        {
            string weightName = layer.Path + ".weight";
            var weight = ModuleTree.FindParameter(model.Component(layer.Component), weightName, layer.Component);
            long inputs = weight.numel() / weight.shape[0];
            if (weight.dim() is not (2 or 4) || layer.Up.shape[0] != weight.shape[0] || layer.Up.numel() != weight.shape[0] * layer.Rank
                || layer.Down.numel() != layer.Rank * inputs)
                throw new ModelLoadException($"{layer.Component}.{weightName} has shape [{string.Join(",", weight.shape)}] but the LoRA pair has down [{string.Join(",", layer.Down.shape)}] and up [{string.Join(",", layer.Up.shape)}]: use the base model the LoRA was trained on");
            using var zeroDown = torch.zeros(layer.Down.shape);
            using var zeroUp = torch.zeros(layer.Up.shape);
            var down = AddTrainable(layer.DownKey, "lora", LoraDelta.DefaultLearningRate, zeroDown);
            var up = AddTrainable(layer.UpKey, "lora", LoraDelta.DefaultLearningRate, zeroUp);
            double scale = layer.Alpha / layer.Rank * multiplier;
            AddTarget(layer.Component, weightName, original => original + up.flatten(1).matmul(down.flatten(1)).reshape(original.shape) * scale);
        }
    }

    public override string Method => "lora";

    /// <summary>Rank and alpha when every layer shares them (what our LoRA files record).</summary>
    public override IReadOnlyDictionary<string, string> MethodMetadata =>
        _layers.Select(l => (l.Rank, l.Alpha)).Distinct().ToList() is [var (rank, alpha)]
            ? new Dictionary<string, string> { ["lora_rank"] = rank.ToString(CultureInfo.InvariantCulture), ["lora_alpha"] = alpha.ToString("R", CultureInfo.InvariantCulture) }
            : new Dictionary<string, string>();
}
