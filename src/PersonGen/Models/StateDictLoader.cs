using System.Text.Json;
using System.Text.Json.Nodes;
using PersonGen.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Models;

/// <summary>
/// Strict loading of checkpoints into modules whose state-dict names follow diffusers/transformers: the key sets
/// and shapes must match exactly, and any difference is reported in one line that names every missing, unexpected
/// and mis-shaped key. Values are copied into the module's own tensors (converting dtype and device), one
/// tensor at a time, so a checkpoint is never held twice in memory.
/// </summary>
public static class StateDictLoader
{
    private const int MaxNamesPerList = 20;

    /// <summary>
    /// The weight files of a component folder: <c>diffusion_pytorch_model.safetensors</c> or <c>model.safetensors</c>,
    /// or the shards listed by their <c>*.safetensors.index.json</c>.
    /// </summary>
    /// <exception cref="ModelLoadException">No safetensors weights are found, or the shard index is malformed.</exception>
    public static IReadOnlyList<string> FindSafetensors(string componentDir)
    {
        foreach (string stem in new[] { "diffusion_pytorch_model", "model" })
        {
            string single = Path.Combine(componentDir, stem + ".safetensors");
            if (File.Exists(single)) return [single];
            string index = single + ".index.json";
            if (File.Exists(index)) return ShardsOf(index, componentDir);
        }
        throw new ModelLoadException(
            $"{componentDir}: no diffusion_pytorch_model.safetensors or model.safetensors (or sharded .index.json); put the component's safetensors weights there");
    }

    private static List<string> ShardsOf(string indexPath, string componentDir)
    {
        try
        {
            var weightMap = JsonNode.Parse(File.ReadAllText(indexPath))?["weight_map"] as JsonObject
                ?? throw new ModelLoadException($"{indexPath}: no weight_map object; restore the shard index");
            var shards = new List<string>();
            foreach (var (_, file) in weightMap)
            {
                string name = file?.GetValue<string>() ?? "";
                if (name.Length == 0 || Path.IsPathRooted(name) || name.Contains(".."))
                    throw new ModelLoadException($"{indexPath}: shard name '{name}' must be a file inside the component folder");
                string path = Path.Combine(componentDir, name);
                if (!shards.Contains(path)) shards.Add(path);
            }
            return shards;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new ModelLoadException($"{indexPath}: malformed shard index ({e.Message}); restore the file", e);
        }
    }

    /// <summary>Loads every tensor of the given safetensors files into <paramref name="module"/> with the strict check.</summary>
    /// <param name="module">The module to fill; its parameters keep their dtype and device.</param>
    /// <param name="files">Safetensors files (one, or the shards of one checkpoint).</param>
    /// <param name="ignoredKeys">Checkpoint keys to skip when present (for example transformers' old <c>position_ids</c> buffer).</param>
    /// <exception cref="ModelLoadException">Keys or shapes differ; the message lists them by name.</exception>
    /// <exception cref="InvalidCheckpointException">A file is missing or malformed.</exception>
    public static void LoadSafetensors(nn.Module module, IReadOnlyList<string> files, IReadOnlySet<string>? ignoredKeys = null)
    {
        var opened = new List<SafetensorsFile>();
        try
        {
            foreach (string file in files) opened.Add(SafetensorsFile.Open(file));
            var owner = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var file in opened)
            {
                foreach (var entry in file.Entries) owner.TryAdd(entry.Name, file);
            }
            string sourceName = files.Count == 1 ? files[0] : Path.GetDirectoryName(files[0]) ?? files[0];
            var target = module.state_dict();
            Check(module, target, owner.ToDictionary(kv => kv.Key, kv => kv.Value.ByName[kv.Key].Shape), sourceName, ignoredKeys);
            using var noGrad = no_grad();
            foreach (var (name, destination) in target)
            {
                using var value = owner[name].Read(name);
                destination.copy_(value);
            }
        }
        finally
        {
            foreach (var file in opened) file.Dispose();
        }
    }

    /// <summary>Loads an in-memory state dict into <paramref name="module"/> with the strict check.</summary>
    /// <param name="module">The module to fill; its parameters keep their dtype and device.</param>
    /// <param name="source">Tensors by state-dict name.</param>
    /// <param name="sourceName">How the error message names the source (a file path or a description).</param>
    /// <param name="ignoredKeys">Source keys to skip when present.</param>
    /// <exception cref="ModelLoadException">Keys or shapes differ; the message lists them by name.</exception>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, Tensor> source, string sourceName,
        IReadOnlySet<string>? ignoredKeys = null)
    {
        var target = module.state_dict();
        Check(module, target, source.ToDictionary(kv => kv.Key, kv => kv.Value.shape), sourceName, ignoredKeys);
        using var noGrad = no_grad();
        foreach (var (name, destination) in target) destination.copy_(source[name]);
    }

    /// <summary>
    /// Compares checkpoint key names and shapes with the module's state dict and throws one
    /// <see cref="ModelLoadException"/> listing every difference.
    /// </summary>
    public static void Check(nn.Module module, IReadOnlyDictionary<string, long[]> sourceShapes, string sourceName,
        IReadOnlySet<string>? ignoredKeys = null) =>
        Check(module, module.state_dict(), sourceShapes, sourceName, ignoredKeys);

    private static void Check(nn.Module module, Dictionary<string, Tensor> target, IReadOnlyDictionary<string, long[]> sourceShapes,
        string sourceName, IReadOnlySet<string>? ignoredKeys)
    {
        bool Ignored(string key) => ignoredKeys?.Contains(key) == true;
        var missing = target.Keys.Where(k => !sourceShapes.ContainsKey(k) && !Ignored(k)).ToList();
        var unexpected = sourceShapes.Keys.Where(k => !target.ContainsKey(k) && !Ignored(k)).ToList();
        var misShaped = target.Where(kv => sourceShapes.TryGetValue(kv.Key, out var shape) && !shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key} (checkpoint {Shape(sourceShapes[kv.Key])}, model {Shape(kv.Value.shape)})").ToList();
        if (missing.Count + unexpected.Count + misShaped.Count == 0) return;
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"missing {Names(missing)}");
        if (unexpected.Count > 0) parts.Add($"unexpected {Names(unexpected)}");
        if (misShaped.Count > 0) parts.Add($"mis-shaped {Names(misShaped)}");
        throw new ModelLoadException(
            $"{sourceName}: checkpoint does not match {module.GetType().Name}: {string.Join("; ", parts)}; check that config.json belongs to these weights");
    }

    private static string Shape(long[] shape) => "[" + string.Join(",", shape) + "]";

    private static string Names(List<string> names)
    {
        string listed = string.Join(", ", names.Take(MaxNamesPerList));
        return names.Count > MaxNamesPerList ? $"{names.Count} keys: {listed}, … ({names.Count - MaxNamesPerList} more)" : listed;
    }
}
