using System.Text.Json;
using SkiaSharp;
using static TorchSharp.torch;

namespace PersonGen.IO;

/// <summary>Writes decoded images as PNGs carrying their generation settings, and latents as safetensors.</summary>
public static class ImageOutput
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>Saves images (N, 3, H, W in [-1, 1]) as <c>dir/{firstIndex + i}.png</c>; returns the bitmaps (caller disposes).</summary>
    public static IReadOnlyList<SKBitmap> SavePngs(Tensor images, string directory, object settings, int firstIndex = 0)
    {
        OutputPath.CreateDirectory(directory);
        var bitmaps = ImageIO.FromTensor(images.to_type(ScalarType.Float32).cpu());
        string parameters = JsonSerializer.Serialize(settings, settings.GetType(), Json);
        for (int i = 0; i < bitmaps.Length; i++)
            ImageIO.SavePng(bitmaps[i], Path.Combine(directory, $"{firstIndex + i}.png"), parameters);
        return bitmaps;
    }

    /// <summary>Writes latents as float32 tensors under the given names.</summary>
    public static void SaveLatents(string path, IEnumerable<KeyValuePair<string, Tensor>> latents)
    {
        using var scope = NewDisposeScope();
        var converted = latents.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.to_type(ScalarType.Float32).cpu())).ToList();
        SafetensorsFile.Save(path, converted, new Dictionary<string, string> { ["format"] = "pt", ["written_by"] = "persongen" });
    }
}
