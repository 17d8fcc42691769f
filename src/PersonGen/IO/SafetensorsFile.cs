using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.IO;

/// <summary>
/// A safetensors file opened for lazy reads. Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// header, then raw little-endian tensor data. The header is fully validated on <see cref="Open"/>; tensor bytes
/// are read only when asked for, with positioned reads straight into the destination tensor's storage (one copy,
/// no staging buffer, no resident mapping of the whole file).
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>Largest single read into a tensor's storage (spans are limited to 2 GB).</summary>
    private const int ReadChunkBytes = 1 << 28;

    private readonly SafeFileHandle _handle;
    private readonly long _dataStart;

    private SafetensorsFile(string path, IReadOnlyList<SafetensorsEntry> entries,
        IReadOnlyDictionary<string, string> metadata, SafeFileHandle handle, long dataStart)
    {
        Path = path;
        Entries = entries;
        Metadata = metadata;
        _handle = handle;
        _dataStart = dataStart;
        ByName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    /// <summary>The path the file was opened with.</summary>
    public string Path { get; }

    /// <summary>Tensor entries in header order.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    public IReadOnlyDictionary<string, SafetensorsEntry> ByName { get; }

    /// <summary>The string-to-string <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens a file and validates its header and layout; no tensor data is read yet.</summary>
    /// <exception cref="InvalidCheckpointException">The file is missing, unreadable or malformed.</exception>
    public static SafetensorsFile Open(string path)
    {
        if (Directory.Exists(path)) throw new InvalidCheckpointException(path, "is a folder, not a safetensors file");
        if (!File.Exists(path)) throw new InvalidCheckpointException(path, "file not found");
        SafeFileHandle handle;
        try { handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidCheckpointException(path, $"cannot be opened ({e.Message})");
        }
        try
        {
            long length = RandomAccess.GetLength(handle);
            if (length < 8)
                throw new InvalidCheckpointException(path, $"file is {length} bytes, too short for the 8-byte header length");
            Span<byte> prefix = stackalloc byte[8];
            ReadExactly(path, handle, prefix, 0);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > SafetensorsHeader.MaxHeaderBytes)
                throw new InvalidCheckpointException(path, $"header length {headerLength} exceeds the {SafetensorsHeader.MaxHeaderBytes}-byte limit (corrupt or not a safetensors file)");
            if (headerLength > (ulong)(length - 8))
                throw new InvalidCheckpointException(path, $"header length {headerLength} exceeds the file size {length} (truncated?)");
            var header = new byte[headerLength];
            ReadExactly(path, handle, header, 8);
            long dataStart = 8 + (long)headerLength;
            var (entries, metadata) = SafetensorsHeader.Parse(path, header, length - dataStart);
            return new SafetensorsFile(path, entries, metadata, handle, dataStart);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads one tensor with its stored shape, converted to <paramref name="dtype"/> and moved to
    /// <paramref name="device"/> when given. The caller owns (disposes) the result.
    /// </summary>
    /// <exception cref="InvalidCheckpointException">No tensor of that name, or the file changed under us.</exception>
    public Tensor Read(string name, ScalarType? dtype = null, Device? device = null)
    {
        if (!ByName.TryGetValue(name, out var entry))
            throw new InvalidCheckpointException(Path, $"no tensor named '{name}'");
        var stored = SafetensorsDTypes.ToScalarType(entry.DType);
        var tensor = torch.empty(entry.Shape, stored);
        try
        {
            if (entry.ByteLength > 0) ReadInto(entry, tensor);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        var target = dtype ?? stored;
        bool move = device is not null && device.type != DeviceType.CPU;
        if (target == stored && !move) return tensor;
        using (tensor)
        {
            return move ? tensor.to(target, device!) : tensor.to_type(target);
        }
    }

    /// <summary>
    /// Reads every tensor (header order). <paramref name="dtype"/> applies to floating-point tensors only, so
    /// integer ids and boolean masks keep their type.
    /// </summary>
    public Dictionary<string, Tensor> ReadAll(ScalarType? dtype = null, Device? device = null)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in Entries)
                result[entry.Name] = Read(entry.Name, SafetensorsDTypes.IsFloatingPoint(entry.DType) ? dtype : null, device);
            return result;
        }
        catch
        {
            foreach (var tensor in result.Values) tensor.Dispose();
            throw;
        }
    }

    /// <summary>Reads all tensors of a file (see <see cref="ReadAll"/>) and closes it.</summary>
    public static Dictionary<string, Tensor> Load(string path, ScalarType? dtype = null, Device? device = null)
    {
        using var file = Open(path);
        return file.ReadAll(dtype, device);
    }

    private void ReadInto(SafetensorsEntry entry, Tensor destination)
    {
        long fileOffset = _dataStart + entry.Begin;
        if (entry.ByteLength <= ReadChunkBytes)
        {
            ReadExactly(Path, _handle, destination.bytes, fileOffset);
            return;
        }
        // Larger than one span: read through contiguous 1-D slices of the destination's storage.
        using var flat = destination.view(-1);
        long elementSize = SafetensorsDTypes.ElementSize(entry.DType);
        long chunkElements = ReadChunkBytes / elementSize;
        long total = flat.shape[0];
        for (long start = 0; start < total; start += chunkElements)
        {
            using var slice = flat.narrow(0, start, Math.Min(chunkElements, total - start));
            ReadExactly(Path, _handle, slice.bytes, fileOffset + start * elementSize);
        }
    }

    private static void ReadExactly(string path, SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        while (buffer.Length > 0)
        {
            int read = RandomAccess.Read(handle, buffer, offset);
            if (read == 0) throw new InvalidCheckpointException(path, $"file ended at byte {offset} while reading (was it truncated after opening?)");
            buffer = buffer[read..];
            offset += read;
        }
    }

    public void Dispose() => _handle.Dispose();

    /// <summary>
    /// Writes tensors (in the given order) with optional string metadata in the published layout: 8-byte
    /// little-endian header length, compact JSON header padded with spaces to a multiple of 8, data contiguous
    /// from offset 0. The file is written under a temporary name and moved into place, so a reader never sees
    /// half a file.
    /// </summary>
    /// <exception cref="PersonGenException">A name is empty, repeated or reserved, or a dtype has no safetensors code.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var items = new List<(string Name, string DType, Tensor Tensor)>();
        try
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, tensor) in tensors)
            {
                if (name.Length == 0 || name == "__metadata__" || !names.Add(name))
                    throw new PersonGenException($"cannot save '{path}': tensor name '{name}' is empty, reserved or repeated; give each tensor a unique name");
                string dtype = SafetensorsDTypes.FromScalarType(tensor.dtype);
                items.Add((name, dtype, tensor.detach().cpu().contiguous()));
            }
            byte[] header = BuildHeader(items, metadata);
            AtomicFile.Write(path, stream =>
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                stream.Write(prefix);
                stream.Write(header);
                foreach (var item in items) WriteData(stream, item.Tensor, item.DType);
            });
        }
        finally
        {
            foreach (var item in items) item.Tensor.Dispose();
        }
    }

    /// <summary>Compact JSON header (metadata first, then tensors in order), padded with spaces to a multiple of 8 bytes.</summary>
    private static byte[] BuildHeader(List<(string Name, string DType, Tensor Tensor)> items, IReadOnlyDictionary<string, string>? metadata)
    {
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, tensor) in items)
            {
                long bytes = tensor.NumberOfElements * SafetensorsDTypes.ElementSize(dtype);
                writer.WriteStartObject(name);
                writer.WriteString("dtype", dtype);
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
        int length = (int)json.Length;
        int padded = (length + 7) / 8 * 8;
        json.Write(Enumerable.Repeat((byte)' ', padded - length).ToArray());
        return json.ToArray();
    }

    private static void WriteData(Stream stream, Tensor tensor, string dtype)
    {
        long total = tensor.NumberOfElements;
        if (total == 0) return;
        long elementSize = SafetensorsDTypes.ElementSize(dtype);
        if (total * elementSize <= ReadChunkBytes)
        {
            stream.Write(tensor.bytes);
            return;
        }
        using var flat = tensor.view(-1);
        long chunkElements = ReadChunkBytes / elementSize;
        for (long start = 0; start < total; start += chunkElements)
        {
            using var slice = flat.narrow(0, start, Math.Min(chunkElements, total - start));
            stream.Write(slice.bytes);
        }
    }
}
