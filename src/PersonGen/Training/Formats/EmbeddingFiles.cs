using System.Collections;
using System.Globalization;
using PersonGen.IO;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace PersonGen.Training.Formats;

/// <summary>
/// A1111's textual-inversion files, which ComfyUI reads too: a <c>.safetensors</c> with <c>emb_params</c> [n, D], or
/// a torch.save'd <c>.pt</c> dict whose <c>string_to_param</c> holds one tensor [n, D] under <c>*</c>. Neither names
/// its token: both tools take the file name as the trigger word, and so do we.
/// </summary>
public static class EmbeddingFiles
{
    public const string ParamsKey = "emb_params", StringToParamKey = "string_to_param";
    private const string A1111Placeholder = "*";
    private const int A1111PlaceholderId = 265; // CLIP's id of '*', which A1111 writes into string_to_token

    /// <summary>The trigger word of an embedding file: its name without the extension.</summary>
    public static string TriggerWord(string path) => Path.GetFileNameWithoutExtension(path.TrimEnd('/', '\\'));

    /// <summary>The rows of a safetensors embedding (<c>emb_params</c>), or null when the file holds something else.</summary>
    public static Tensor? Rows(IReadOnlyDictionary<string, Tensor> tensors) => tensors.GetValueOrDefault(ParamsKey);

    /// <summary>
    /// The rows of an A1111 <c>.pt</c> embedding, or null (nothing read) when the pickle has no <c>string_to_param</c>;
    /// the caller owns the tensor. Python objects anywhere in the file are refused unread.
    /// </summary>
    /// <exception cref="InvalidCheckpointException">Unreadable, or <c>string_to_param</c> is not one tensor.</exception>
    public static Tensor? ReadPickle(string path)
    {
        var tree = PickleCheckpoint.LoadTree(path);
        try
        {
            if (tree[StringToParamKey] is not { } entry) return null;
            if (entry is not Hashtable { Count: 1 } parameters)
                throw new InvalidCheckpointException(path, $"'{StringToParamKey}' is not a dict holding one embedding: it is not an A1111 textual-inversion file");
            var value = parameters.Values.Cast<object?>().Single();
            if (value is not Tensor rows || !rows.is_floating_point() || rows.dim() is not (1 or 2))
                throw new InvalidCheckpointException(path, $"'{StringToParamKey}' holds a {value?.GetType().Name ?? "None"}, not a float tensor [n, D]: only embeddings are read");
            return rows.dim() == 1 ? rows.unsqueeze(0) : rows.alias();
        }
        finally
        {
            PickleCheckpoint.DisposeTensors(tree);
        }
    }

    /// <summary>Writes rows [n, D] as an A1111 embedding: <c>.pt</c> → the pickle layout, anything else → safetensors.</summary>
    public static void Write(string path, Tensor rows, IReadOnlyDictionary<string, string> metadata)
    {
        using var cpu = rows.detach().to(ScalarType.Float32, torch.CPU).contiguous();
        if (!path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase))
        {
            SafetensorsFile.Save(path, [KeyValuePair.Create(ParamsKey, cpu)], metadata);
            return;
        }
        var tree = new Hashtable
        {
            ["string_to_token"] = new Hashtable { [A1111Placeholder] = (long)A1111PlaceholderId },
            [StringToParamKey] = new Hashtable { [A1111Placeholder] = cpu },
            ["name"] = metadata.GetValueOrDefault(ConceptCheckpoint.TokenKey) ?? TriggerWord(path),
            ["step"] = long.TryParse(metadata.GetValueOrDefault(ConceptCheckpoint.StepKey), CultureInfo.InvariantCulture, out var step) ? step : 0L,
        };
        AtomicFile.Write(path, stream => PyTorchPickler.PickleStateDict(stream, tree));
    }
}
