using PersonGen.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Models.Vae;

/// <summary>
/// Loads a safetensors state dict into a module with a strict check: every key present once, every shape equal.
/// The error lists the missing, unexpected and mis-shaped keys by name.
/// </summary>
internal static class VaeCheckpointLoader
{
    private const int ListedKeys = 8;

    /// <summary>Deprecated mid-block attention names (old diffusers / converted LDM checkpoints) → current ones.</summary>
    private static readonly (string Old, string New)[] DeprecatedAttentionNames =
    [
        (".query.", ".to_q."), (".key.", ".to_k."), (".value.", ".to_v."), (".proj_attn.", ".to_out.0."),
    ];

    public static void LoadStrict(nn.Module module, string path, string modelName)
    {
        using var file = SafetensorsFile.Open(path);
        var fileKeys = file.Entries.ToDictionary(e => CurrentName(e.Name), e => e, StringComparer.Ordinal);
        var targets = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in module.named_parameters()) targets[name] = parameter;
        foreach (var (name, buffer) in module.named_buffers()) targets[name] = buffer;

        var missing = targets.Keys.Where(k => !fileKeys.ContainsKey(k)).ToList();
        var unexpected = fileKeys.Keys.Where(k => !targets.ContainsKey(k)).ToList();
        var misShaped = targets.Where(t => fileKeys.TryGetValue(t.Key, out var entry) && !entry.Shape.SequenceEqual(t.Value.shape))
            .Select(t => $"{t.Key} (file {Shape(fileKeys[t.Key].Shape)}, model {Shape(t.Value.shape)})").ToList();
        if (missing.Count + unexpected.Count + misShaped.Count > 0)
        {
            var problems = new List<string>();
            if (missing.Count > 0) problems.Add($"missing {List(missing)}");
            if (unexpected.Count > 0) problems.Add($"unexpected {List(unexpected)}");
            if (misShaped.Count > 0) problems.Add($"mis-shaped {List(misShaped)}");
            throw new ModelLoadException($"{path}: checkpoint does not match the {modelName} config: {string.Join("; ", problems)} (check that config.json belongs to these weights)");
        }

        using var noGrad = no_grad();
        foreach (var (name, target) in targets)
        {
            using var value = file.Read(fileKeys[name].Name, target.dtype, target.device);
            target.copy_(value);
        }
    }

    private static string CurrentName(string key)
    {
        if (!key.Contains(".mid_block.attentions.", StringComparison.Ordinal)) return key;
        foreach (var (old, current) in DeprecatedAttentionNames)
        {
            if (key.Contains(old, StringComparison.Ordinal)) return key.Replace(old, current, StringComparison.Ordinal);
        }
        return key;
    }

    private static string Shape(IEnumerable<long> shape) => $"[{string.Join(",", shape)}]";

    private static string List(IReadOnlyList<string> keys) =>
        string.Join(", ", keys.Take(ListedKeys)) + (keys.Count > ListedKeys ? $" (+{keys.Count - ListedKeys} more)" : "");
}
