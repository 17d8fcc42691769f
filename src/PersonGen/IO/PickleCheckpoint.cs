using System.Collections;
using System.Text.RegularExpressions;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace PersonGen.IO;

/// <summary>
/// Reads PyTorch pickle checkpoints (<c>torch.save</c> zip archives, usually <c>.bin</c>/<c>.pt</c>) that hold a
/// state dict: a flat dict of string names to tensors. The pickle is interpreted by TorchSharp.PyBridge's
/// unpickler, which only builds tensors and plain containers and never runs code; anything that is not a tensor
/// is refused.
/// </summary>
public static partial class PickleCheckpoint
{
    /// <summary>
    /// Loads every tensor of a state-dict checkpoint, sorted by name. <paramref name="dtype"/> applies to
    /// floating-point tensors only; the caller owns (disposes) the tensors.
    /// </summary>
    /// <exception cref="InvalidCheckpointException">The file is missing, not a zip-format torch.save archive,
    /// or holds something other than a flat dict of tensors.</exception>
    public static Dictionary<string, Tensor> Load(string path, ScalarType? dtype = null, Device? device = null)
    {
        if (!File.Exists(path)) throw new InvalidCheckpointException(path, "file not found");
        Hashtable table = Unpickle(path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (DictionaryEntry item in table)
            {
                if (item.Key is not string name)
                    throw new InvalidCheckpointException(path, $"state dict has a non-string key '{item.Key}'; only name → tensor dicts are read");
                if (item.Value is not Tensor tensor)
                    throw new InvalidCheckpointException(path,
                        $"entry '{name}' is a {Describe(item.Value)}, not a tensor; only plain state dicts (torch.save(model.state_dict())) are read");
                result[name] = tensor;
            }
            var converted = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (string name in result.Keys.Order(StringComparer.Ordinal))
                converted[name] = Convert(result[name], dtype, device);
            return converted;
        }
        finally
        {
            foreach (var value in table.Values)
                if (value is Tensor tensor) tensor.Dispose();
        }
    }

    /// <summary>
    /// Loads a torch.save'd tree of plain values (dicts, lists, strings, numbers, tensors), such as an A1111
    /// embedding. The caller owns the tensors (<see cref="DisposeTensors"/>).
    /// </summary>
    /// <exception cref="InvalidCheckpointException">Missing, not a zip-format archive, or holding a Python object.</exception>
    public static Hashtable LoadTree(string path)
    {
        if (!File.Exists(path)) throw new InvalidCheckpointException(path, "file not found");
        Hashtable table = Unpickle(path);
        if (Values(table).FirstOrDefault(v => v is not (null or string or bool or int or long or double or Tensor or Hashtable or ArrayList or object[])) is { } foreign)
        {
            DisposeTensors(table);
            throw new InvalidCheckpointException(path, $"holds a {Describe(foreign)}, not only tensors and plain values; it is refused unread");
        }
        return table;
    }

    /// <summary>Disposes every tensor inside a tree from <see cref="LoadTree"/>.</summary>
    public static void DisposeTensors(object? tree)
    {
        foreach (var value in Values(tree)) if (value is Tensor tensor) tensor.Dispose();
    }

    /// <summary>The value and, for dicts and lists, everything inside it.</summary>
    private static IEnumerable<object?> Values(object? tree)
    {
        yield return tree;
        IEnumerable? children = tree switch { Hashtable table => table.Values, ArrayList or object[] => (IEnumerable)tree, _ => null };
        if (children is null) yield break;
        foreach (var child in children) foreach (var value in Values(child)) yield return value;
    }

    private static Hashtable Unpickle(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            Span<byte> signature = stackalloc byte[4];
            if (stream.ReadAtLeast(signature, 4, throwOnEndOfStream: false) < 4 || signature[0] != 0x50 || signature[1] != 0x4B)
                throw new InvalidCheckpointException(path,
                    "is not a zip-format torch.save archive (legacy or foreign format); re-save it with a recent PyTorch or convert it to safetensors");
            stream.Position = 0;
            return PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
        }
        catch (InvalidCheckpointException) { throw; }
        catch (InvalidCastException)
        {
            throw new InvalidCheckpointException(path, "does not hold a dict at the top level; only state dicts (name → tensor) are read");
        }
        catch (Razorvine.Pickle.PickleException e) when (ForeignClass().Match(e.Message) is { Success: true } match)
        {
            throw new InvalidCheckpointException(path,
                $"holds a Python object of class {match.Groups[1].Value}, not only tensors; only plain state dicts (torch.save(model.state_dict())) are read");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidCheckpointException(path, $"cannot be read as a PyTorch state dict ({OneLine(e.Message)})");
        }
    }

    private static Tensor Convert(Tensor tensor, ScalarType? dtype, Device? device)
    {
        var target = dtype is { } wanted && tensor.is_floating_point() ? wanted : tensor.dtype;
        return device is not null && device.type != DeviceType.CPU
            ? tensor.to(target, device)
            : tensor.to_type(target, copy: true);
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        Razorvine.Pickle.Objects.ClassDict classDict => $"Python object of class {classDict.ClassName}",
        _ => value.GetType().Name,
    };

    /// <summary>The unpickler's message for a class it will not construct names it as "(for module.name)".</summary>
    [GeneratedRegex(@"\(for ([\w.]+)\)")]
    private static partial Regex ForeignClass();

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
