using System.Text.Json;
using PersonGen.IO;
using PersonGen.Tests.Support;

namespace PersonGen.Tests.IO;

/// <summary>Writes skeleton diffusers folders (JSON only, empty weights) for model-folder tests.</summary>
internal static class FakeModel
{
    /// <summary>A folder with model_index.json and empty unet/vae/text_encoder/scheduler component folders.</summary>
    public static string Create(string? root = null)
    {
        root ??= TestPaths.NewTempDirectory();
        WriteIndexFile(root);
        foreach (string component in new[] { "unet", "vae", "text_encoder", "scheduler" })
            Directory.CreateDirectory(Path.Combine(root, component));
        File.WriteAllText(Path.Combine(root, "unet", "config.json"), """{"_class_name": "UNet2DConditionModel", "sample_size": 8}""");
        File.WriteAllText(Path.Combine(root, "scheduler", "scheduler_config.json"), """{"_class_name": "DDIMScheduler"}""");
        return root;
    }

    public static void WriteIndexFile(string root) =>
        File.WriteAllText(Path.Combine(root, ModelFolder.IndexFileName), """
            {
              "_class_name": "StableDiffusionPipeline",
              "_diffusers_version": "0.30.3",
              "requires_safety_checker": false,
              "safety_checker": [null, null],
              "scheduler": ["diffusers", "DDIMScheduler"],
              "text_encoder": ["transformers", "CLIPTextModel"],
              "unet": ["diffusers", "UNet2DConditionModel"],
              "vae": ["diffusers", "AutoencoderKL"]
            }
            """);

    public static void WriteIndex(string directory, string name, params (string Tensor, string File)[] weightMap) =>
        File.WriteAllText(Path.Combine(directory, name), JsonSerializer.Serialize(new
        {
            metadata = new { total_size = 0 },
            weight_map = weightMap.ToDictionary(e => e.Tensor, e => e.File),
        }));
}
