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
    /// Loads a freshly built <paramref name="model"/> from <paramref name="componentDir"/> (see <see cref="LoadFolder"/>),
    /// disposing it when loading fails, and returns it in eval mode.
    /// </summary>
    /// <exception cref="ModelLoadException">No weight file, or keys or shapes differ; the message lists them by name.</exception>
    public static T LoadNew<T>(T model, string componentDir, IReadOnlySet<string>? ignoredKeys = null,
        Func<string, string>? renameKey = null) where T : nn.Module
    {
        try
        {
            LoadFolder(model, componentDir, ignoredKeys, renameKey);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }

    /// <summary>
    /// Loads a component folder's weights (found by <see cref="ModelFolder.FindWeightFiles"/>: one safetensors file,
    /// its shards, or a PyTorch pickle) into <paramref name="module"/> with the strict check.
    /// </summary>
    /// <inheritdoc cref="LoadFiles"/>
    /// <exception cref="ModelLoadException">No weight file, or keys or shapes differ; the message lists them by name.</exception>
    public static void LoadFolder(nn.Module module, string componentDir, IReadOnlySet<string>? ignoredKeys = null,
        Func<string, string>? renameKey = null) =>
        LoadFiles(module, ModelFolder.FindWeightFiles(componentDir), ignoredKeys, renameKey);

    /// <summary>
    /// Loads every tensor of the given checkpoint files into <paramref name="module"/> with the strict check.
    /// Safetensors files are read lazily, one tensor at a time, already converted to each parameter's dtype and device.
    /// </summary>
    /// <param name="module">The module to fill; its parameters keep their dtype and device.</param>
    /// <param name="files">Checkpoint files (one, or the shards of one checkpoint): safetensors or PyTorch pickles.</param>
    /// <param name="ignoredKeys">Keys to skip when present (for example transformers' old <c>position_ids</c> buffer).</param>
    /// <param name="renameKey">Maps a checkpoint key to the module's name for it (for deprecated names); null keeps keys.</param>
    /// <exception cref="ModelLoadException">Keys or shapes differ; the message lists them by name.</exception>
    /// <exception cref="InvalidCheckpointException">A file is missing or malformed.</exception>
    public static void LoadFiles(nn.Module module, IReadOnlyList<string> files, IReadOnlySet<string>? ignoredKeys = null,
        Func<string, string>? renameKey = null)
    {
        var sources = new List<CheckpointSource>();
        try
        {
            foreach (string file in files) sources.Add(CheckpointSource.Open(file));
            var owner = new Dictionary<string, (CheckpointSource Source, string Key)>(StringComparer.Ordinal);
            var duplicates = new List<string>();
            foreach (var source in sources)
            {
                foreach (string key in source.Keys)
                {
                    string name = renameKey?.Invoke(key) ?? key;
                    if (!owner.TryAdd(name, (source, key))) duplicates.Add($"{key} (also stored as {owner[name].Key})");
                }
            }
            string sourceName = files.Count == 1 ? files[0] : Path.GetDirectoryName(files[0]) ?? files[0];
            var target = module.state_dict();
            Check(module, target, owner.ToDictionary(kv => kv.Key, kv => kv.Value.Source.Shape(kv.Value.Key)), sourceName,
                ignoredKeys, duplicates);
            using var noGrad = no_grad();
            foreach (var (name, destination) in target)
            {
                if (!owner.TryGetValue(name, out var stored)) continue; // an ignored key
                using var value = stored.Source.Read(stored.Key, destination.dtype, destination.device);
                destination.copy_(value);
            }
        }
        finally
        {
            foreach (var source in sources) source.Dispose();
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
        Check(module, target, source.ToDictionary(kv => kv.Key, kv => kv.Value.shape), sourceName, ignoredKeys, []);
        using var noGrad = no_grad();
        foreach (var (name, destination) in target)
        {
            if (source.TryGetValue(name, out var value)) destination.copy_(value);
        }
    }

    /// <summary>
    /// Compares checkpoint key names and shapes with the module's state dict and throws one
    /// <see cref="ModelLoadException"/> listing every difference.
    /// </summary>
    public static void Check(nn.Module module, IReadOnlyDictionary<string, long[]> sourceShapes, string sourceName,
        IReadOnlySet<string>? ignoredKeys = null) =>
        Check(module, module.state_dict(), sourceShapes, sourceName, ignoredKeys, []);

    private static void Check(nn.Module module, Dictionary<string, Tensor> target, IReadOnlyDictionary<string, long[]> sourceShapes,
        string sourceName, IReadOnlySet<string>? ignoredKeys, List<string> duplicates)
    {
        bool Ignored(string key) => ignoredKeys?.Contains(key) == true;
        var missing = target.Keys.Where(k => !sourceShapes.ContainsKey(k) && !Ignored(k)).ToList();
        var unexpected = sourceShapes.Keys.Where(k => !target.ContainsKey(k) && !Ignored(k)).Concat(duplicates).ToList();
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

    /// <summary>One checkpoint file: safetensors read lazily, or a PyTorch pickle read whole (the format allows no less).</summary>
    private sealed class CheckpointSource : IDisposable
    {
        private readonly SafetensorsFile? _safetensors;
        private readonly Dictionary<string, Tensor>? _tensors;

        private CheckpointSource(SafetensorsFile? safetensors, Dictionary<string, Tensor>? tensors)
        {
            _safetensors = safetensors;
            _tensors = tensors;
        }

        public static CheckpointSource Open(string path) =>
            CheckpointFile.IsPickle(path) ? new(null, PickleCheckpoint.Load(path)) : new(SafetensorsFile.Open(path), null);

        public IEnumerable<string> Keys => _safetensors?.Entries.Select(e => e.Name) ?? _tensors!.Keys;

        public long[] Shape(string key) => _safetensors?.ByName[key].Shape ?? _tensors![key].shape;

        public Tensor Read(string key, ScalarType dtype, Device device) =>
            _safetensors?.Read(key, dtype, device) ?? _tensors![key].to(dtype, device, copy: true);

        public void Dispose()
        {
            _safetensors?.Dispose();
            foreach (var tensor in _tensors?.Values ?? Enumerable.Empty<Tensor>()) tensor.Dispose();
        }
    }
}
