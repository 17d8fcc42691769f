using PersonGen.IO;
using static TorchSharp.torch;

namespace PersonGen.Training.Formats;

/// <summary>
/// Writes a concept in another tool's layout: a LoRA as <c>kohya</c> (A1111, ComfyUI, kohya's trainer), <c>peft</c>
/// (ours, diffusers') or <c>diffusers</c> (attention processors); textual-inversion and Custom Diffusion token rows
/// as an <c>a1111</c> embedding (Custom Diffusion's k/v weights have no place there).
/// </summary>
public static class ConceptExport
{
    public static readonly IReadOnlyList<string> Formats = ["kohya", "peft", "diffusers", "a1111"];

    /// <summary>Writes <paramref name="checkpoint"/> to <paramref name="path"/> in <paramref name="format"/>; a multiplier is folded into alpha.</summary>
    /// <para>model: Resolves the names of a kohya checkpoint (other inputs need none).</para>
    /// <exception cref="InvalidInputException">The format does not fit the concept's method.</exception>
    public static void Write(ConceptCheckpoint checkpoint, string format, string path, ConceptModel? model = null)
    {
        switch (format)
        {
            case "kohya" or "peft" or "diffusers":
                WriteLora(checkpoint, Enum.Parse<LoraLayout>(format, ignoreCase: true), path, model);
                break;
            case "a1111":
                if (checkpoint.Method is not ("textual-inversion" or "custom-diffusion"))
                    throw new InvalidInputException($"{checkpoint.Source}: a {checkpoint.Method} concept has no token embedding: only textual-inversion and custom-diffusion concepts export as a1111");
                string token = checkpoint.Token ?? checkpoint.Tensors.Keys.Single(k => !k.Contains('.'));
                using (var rows = checkpoint.Tensors[token].dim() == 1 ? checkpoint.Tensors[token].unsqueeze(0) : checkpoint.Tensors[token].alias())
                    EmbeddingFiles.Write(path, rows, Carried(checkpoint.Metadata));
                break;
            default:
                throw new InvalidInputException($"unknown export format '{format}': expected {string.Join(", ", Formats)}");
        }
    }

    private static void WriteLora(ConceptCheckpoint checkpoint, LoraLayout layout, string path, ConceptModel? model)
    {
        if (checkpoint.Method != "lora")
            throw new InvalidInputException($"{checkpoint.Source}: a {checkpoint.Method} concept is not a LoRA: only LoRA concepts export as {layout.ToString().ToLowerInvariant()} (token embeddings export as a1111)");
        var layers = LoraFiles.Read(checkpoint.Tensors, checkpoint.Metadata, checkpoint.Source, model)
            .Select(l => l with { Alpha = l.Alpha * checkpoint.Multiplier }).ToList();
        var (tensors, metadata) = LoraFiles.Write(layers, layout, checkpoint.Metadata);
        try
        {
            SafetensorsFile.Save(path, tensors, metadata);
        }
        finally
        {
            var borrowed = layers.SelectMany(l => new[] { l.Down, l.Up }).ToHashSet(ReferenceEqualityComparer.Instance);
            foreach (var tensor in tensors.Values.Where(t => !borrowed.Contains(t))) tensor.Dispose();
        }
    }

    private static Dictionary<string, string> Carried(IReadOnlyDictionary<string, string> metadata) =>
        new[] { ConceptCheckpoint.TokenKey, ConceptCheckpoint.ClassKey, ConceptCheckpoint.BaseModelKey, ConceptCheckpoint.StepKey }
            .Where(metadata.ContainsKey).ToDictionary(k => k, k => metadata[k], StringComparer.Ordinal);
}
