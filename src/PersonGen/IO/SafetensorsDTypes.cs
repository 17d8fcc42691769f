using static TorchSharp.torch;

namespace PersonGen.IO;

/// <summary>Maps safetensors dtype strings to TorchSharp scalar types and element sizes.</summary>
public static class SafetensorsDTypes
{
    private static readonly Dictionary<string, (ScalarType Type, int Size)> Known = new(StringComparer.Ordinal)
    {
        ["F64"] = (ScalarType.Float64, 8),
        ["F32"] = (ScalarType.Float32, 4),
        ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2),
        ["I64"] = (ScalarType.Int64, 8),
        ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2),
        ["I8"] = (ScalarType.Int8, 1),
        ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>The dtype strings we read and write, in the order of the format's documentation.</summary>
    public static IReadOnlyCollection<string> All => Known.Keys;

    public static bool IsKnown(string dtype) => Known.ContainsKey(dtype);

    public static bool IsFloatingPoint(string dtype) => dtype is "F64" or "F32" or "F16" or "BF16";

    public static int ElementSize(string dtype) => Known[dtype].Size;

    public static ScalarType ToScalarType(string dtype) => Known[dtype].Type;

    /// <exception cref="PersonGenException">The scalar type has no safetensors dtype here (e.g. complex).</exception>
    public static string FromScalarType(ScalarType type) =>
        Known.FirstOrDefault(kv => kv.Value.Type == type).Key
        ?? throw new PersonGenException($"tensors of dtype {type} cannot be stored in safetensors; convert them to a real or integer dtype first");
}
