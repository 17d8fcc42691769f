using System.Text.Json;
using PersonGen.IO;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Models.Unet;

/// <summary>
/// Strict loading of a diffusers UNet checkpoint (<c>diffusion_pytorch_model.safetensors</c>, or shards listed in
/// its <c>.index.json</c>): every model tensor must be present with its shape and nothing else may be, else one
/// error lists the missing, unexpected and mis-shaped keys by name.
/// </summary>
internal static class UnetWeights
{
    internal const string FileName = "diffusion_pytorch_model.safetensors";
    private const int NamesShown = 8;

    /// <summary>Copies the checkpoint in <paramref name="componentDir"/> into <paramref name="model"/>'s tensors.</summary>
    public static void LoadStrict(Module model, string componentDir)
    {
        var files = OpenFiles(componentDir);
        try
        {
            var stored = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var file in files)
                foreach (var entry in file.Entries)
                    stored[entry.Name] = file;
            var target = model.state_dict();
            string where = files.Count == 1 ? files[0].Path : Path.Combine(componentDir, FileName + ".index.json");
            Check(where, target, stored);
            using (no_grad())
            {
                foreach (var (name, tensor) in target)
                {
                    using var value = stored[name].Read(name, tensor.dtype, tensor.device);
                    tensor.copy_(value);
                }
            }
        }
        finally
        {
            foreach (var file in files) file.Dispose();
        }
    }

    /// <summary>Throws one <see cref="ModelLoadException"/> naming every key that does not match.</summary>
    internal static void Check(string where, IReadOnlyDictionary<string, Tensor> target,
        IReadOnlyDictionary<string, SafetensorsFile> stored)
    {
        var missing = target.Keys.Where(k => !stored.ContainsKey(k)).ToList();
        var unexpected = stored.Keys.Where(k => !target.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var misShaped = target
            .Where(kv => stored.TryGetValue(kv.Key, out var file) && !file.ByName[kv.Key].Shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key} (checkpoint [{string.Join(",", stored[kv.Key].ByName[kv.Key].Shape)}], model [{string.Join(",", kv.Value.shape)}])")
            .ToList();
        if (missing.Count + unexpected.Count + misShaped.Count == 0) return;
        throw new ModelLoadException(
            $"{where} does not fit UNet2DConditionModel: {Describe("missing", missing)}; {Describe("unexpected", unexpected)}; " +
            $"{Describe("mis-shaped", misShaped)}; use the config.json saved with these weights");
    }

    private static string Describe(string kind, IReadOnlyList<string> names) =>
        names.Count == 0
            ? $"0 {kind}"
            : $"{names.Count} {kind}: {string.Join(", ", names.Take(NamesShown))}{(names.Count > NamesShown ? $", … {names.Count - NamesShown} more" : "")}";

    private static List<SafetensorsFile> OpenFiles(string componentDir)
    {
        string single = Path.Combine(componentDir, FileName);
        if (File.Exists(single)) return [SafetensorsFile.Open(single)];
        string index = single + ".index.json";
        if (!File.Exists(index))
            throw new ModelLoadException($"{single}: UNet weights not found; the unet folder needs {FileName} (or a sharded {FileName}.index.json)");
        var shards = ReadShardNames(index);
        var files = new List<SafetensorsFile>();
        try
        {
            foreach (string shard in shards) files.Add(SafetensorsFile.Open(Path.Combine(componentDir, shard)));
        }
        catch
        {
            foreach (var file in files) file.Dispose();
            throw;
        }
        return files;
    }

    private static IReadOnlyList<string> ReadShardNames(string index)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(index));
            var shards = document.RootElement.GetProperty("weight_map").EnumerateObject()
                .Select(p => p.Value.GetString() ?? throw new JsonException("a weight_map value is not a string"))
                .Distinct(StringComparer.Ordinal).ToList();
            foreach (string shard in shards)
                if (Path.IsPathRooted(shard) || shard.Contains("..", StringComparison.Ordinal) || shard.Contains('/') || shard.Contains('\\'))
                    throw new ModelLoadException($"{index}: shard name '{shard}' must be a file name inside the unet folder");
            return shards;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ModelLoadException($"{index}: invalid shard index ({e.Message.Split('\n')[0]}); expected {{\"weight_map\": {{name: file}}}}", e);
        }
    }
}
