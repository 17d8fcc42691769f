using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.IO;

/// <summary>One tensor's header entry in a safetensors file.</summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>
/// A safetensors file opened for lazy reads: the header is parsed and validated up front, tensor bytes are
/// read from a memory map only when asked for, straight into the destination tensor.
/// Layout: 8-byte little-endian header length N, N bytes of JSON header, then raw little-endian data.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly long _dataStart;

    private SafetensorsFile(string path, IReadOnlyList<SafetensorsEntry> entries,
        IReadOnlyDictionary<string, string> metadata, MemoryMappedFile? map, MemoryMappedViewAccessor? view, long dataStart)
    {
        Path = path;
        Entries = entries;
        Metadata = metadata;
        _map = map;
        _view = view;
        _dataStart = dataStart;
        ByName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    public string Path { get; }
    public IReadOnlyList<SafetensorsEntry> Entries { get; }
    public IReadOnlyDictionary<string, SafetensorsEntry> ByName { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <exception cref="InvalidCheckpointException">The file is missing or malformed.</exception>
    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new InvalidCheckpointException(path, "file not found");
        long length = new FileInfo(path).Length;
        if (length < 8) throw new InvalidCheckpointException(path, $"file is {length} bytes, too short for the 8-byte header length");
        ulong headerLength;
        byte[] header;
        using (var stream = File.OpenRead(path))
        {
            Span<byte> prefix = stackalloc byte[8];
            stream.ReadExactly(prefix);
            headerLength = BitConverter.ToUInt64(prefix);
            if (headerLength > (ulong)(length - 8))
                throw new InvalidCheckpointException(path, $"header length {headerLength} exceeds the file size {length}");
            header = new byte[headerLength];
            stream.ReadExactly(header);
        }
        var (entries, metadata) = SafetensorsHeader.Parse(path, header, length - 8 - (long)headerLength);
        long dataStart = 8 + (long)headerLength;
        if (length == dataStart) return new SafetensorsFile(path, entries, metadata, null, null, dataStart);
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        return new SafetensorsFile(path, entries, metadata, map, view, dataStart);
    }

    /// <summary>Reads one tensor, converted to <paramref name="dtype"/> and moved to <paramref name="device"/> if given.</summary>
    public Tensor Read(string name, ScalarType? dtype = null, Device? device = null)
    {
        if (!ByName.TryGetValue(name, out var entry))
            throw new InvalidCheckpointException(Path, $"no tensor named '{name}'");
        var stored = SafetensorsDTypes.ToScalarType(entry.DType);
        var tensor = torch.empty(entry.Shape, stored);
        if (entry.ByteLength > 0) CopyInto(entry, tensor);
        if (dtype is { } wanted && wanted != stored)
        {
            var converted = tensor.to_type(wanted);
            tensor.Dispose();
            tensor = converted;
        }
        if (device is not null && device.type != DeviceType.CPU)
        {
            var moved = tensor.to(device);
            tensor.Dispose();
            tensor = moved;
        }
        return tensor;
    }

    /// <summary>Reads every tensor (in header order).</summary>
    public Dictionary<string, Tensor> ReadAll(ScalarType? dtype = null, Device? device = null) =>
        Entries.ToDictionary(e => e.Name, e => Read(e.Name, IsFloating(e.DType) ? dtype : null, device), StringComparer.Ordinal);

    private static bool IsFloating(string dtype) => dtype is "F64" or "F32" or "F16" or "BF16";

    private unsafe void CopyInto(SafetensorsEntry entry, Tensor destination)
    {
        byte* basePointer = null;
        _view!.SafeMemoryMappedViewHandle.AcquirePointer(ref basePointer);
        try
        {
            byte* source = basePointer + _view.PointerOffset + _dataStart + entry.Begin;
            // Tensor.bytes is a span over the tensor's own CPU storage: one copy from the map, no staging buffer.
            new ReadOnlySpan<byte>(source, checked((int)entry.ByteLength)).CopyTo(destination.bytes);
        }
        finally
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    public void Dispose()
    {
        _view?.Dispose();
        _map?.Dispose();
    }

    /// <summary>Reads all tensors of a file and closes it.</summary>
    public static Dictionary<string, Tensor> Load(string path, ScalarType? dtype = null, Device? device = null)
    {
        using var file = Open(path);
        return file.ReadAll(dtype, device);
    }

    /// <summary>
    /// Writes tensors (in the given order) with optional string metadata, in the published layout: header padded
    /// with spaces to a multiple of 8, data contiguous from offset 0. The file is written to a temporary name and
    /// moved into place, so a reader never sees half a file.
    /// </summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var items = tensors.Select(kv => (kv.Key, Tensor: kv.Value.detach().cpu().contiguous())).ToList();
        try
        {
            using var json = new MemoryStream();
            using (var writer = new Utf8JsonWriter(json))
            {
                writer.WriteStartObject();
                if (metadata is { Count: > 0 })
                {
                    writer.WriteStartObject("__metadata__");
                    foreach (var (key, value) in metadata) writer.WriteString(key, value);
                    writer.WriteEndObject();
                }
                long offset = 0;
                foreach (var (name, tensor) in items)
                {
                    long bytes = tensor.NumberOfElements * tensor.ElementSize;
                    writer.WriteStartObject(name);
                    writer.WriteString("dtype", SafetensorsDTypes.FromScalarType(tensor.dtype));
                    writer.WriteStartArray("shape");
                    foreach (long dim in tensor.shape) writer.WriteNumberValue(dim);
                    writer.WriteEndArray();
                    writer.WriteStartArray("data_offsets");
                    writer.WriteNumberValue(offset);
                    writer.WriteNumberValue(offset + bytes);
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                    offset += bytes;
                }
                writer.WriteEndObject();
            }
            byte[] headerBytes = json.ToArray();
            int padded = (headerBytes.Length + 7) / 8 * 8;
            string directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
            Directory.CreateDirectory(directory);
            string temp = path + ".tmp-" + Environment.ProcessId;
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                stream.Write(BitConverter.GetBytes((ulong)padded));
                stream.Write(headerBytes);
                for (int i = headerBytes.Length; i < padded; i++) stream.WriteByte((byte)' ');
                foreach (var (_, tensor) in items) WriteData(stream, tensor);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            foreach (var (_, tensor) in items) tensor.Dispose();
        }
    }

    private static void WriteData(Stream stream, Tensor tensor)
    {
        if (tensor.NumberOfElements > 0) stream.Write(tensor.bytes);
    }
}

/// <summary>Maps safetensors dtype strings to TorchSharp scalar types and element sizes.</summary>
public static class SafetensorsDTypes
{
    private static readonly Dictionary<string, (ScalarType Type, int Size)> Known = new(StringComparer.Ordinal)
    {
        ["F64"] = (ScalarType.Float64, 8), ["F32"] = (ScalarType.Float32, 4), ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2), ["I64"] = (ScalarType.Int64, 8), ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2), ["I8"] = (ScalarType.Int8, 1), ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    public static bool IsKnown(string dtype) => Known.ContainsKey(dtype);

    public static int ElementSize(string dtype) => Known[dtype].Size;

    public static ScalarType ToScalarType(string dtype) => Known[dtype].Type;

    public static string FromScalarType(ScalarType type) =>
        Known.FirstOrDefault(kv => kv.Value.Type == type).Key
        ?? throw new PersonGenException($"tensors of dtype {type} cannot be stored in safetensors");
}
