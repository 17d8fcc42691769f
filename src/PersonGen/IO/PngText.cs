using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace PersonGen.IO;

/// <summary>
/// PNG text chunks, which SkiaSharp cannot write: inserts <c>tEXt</c> chunks (Latin-1; <c>iTXt</c> UTF-8 when the text
/// needs it, as PIL does) after <c>IHDR</c>, and reads <c>tEXt</c>, <c>zTXt</c> and <c>iTXt</c> back.
/// Chunk layout: 4-byte big-endian data length, 4-byte type, data, CRC-32 of type and data.
/// </summary>
public static class PngText
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly Encoding Latin1 = Encoding.Latin1;
    private static readonly uint[] CrcTable = CreateCrcTable();

    /// <summary>Returns <paramref name="png"/> with one text chunk per entry inserted right after <c>IHDR</c>.</summary>
    /// <exception cref="InvalidInputException">The bytes are not a PNG, or a keyword is not 1–79 Latin-1 characters.</exception>
    public static byte[] Insert(byte[] png, IEnumerable<KeyValuePair<string, string>> entries)
    {
        int afterHeader = Chunks(png, "PNG bytes").First().End;
        using var output = new MemoryStream(png.Length + 256);
        output.Write(png, 0, afterHeader);
        foreach (var (key, value) in entries) WriteChunk(output, TextChunk(key, value));
        output.Write(png, afterHeader, png.Length - afterHeader);
        return output.ToArray();
    }

    /// <summary>All text entries of a PNG file, keyword → text (the first wins when a keyword repeats).</summary>
    /// <exception cref="InvalidInputException">The file is missing or is not a well-formed PNG.</exception>
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: image file not found");
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>All text entries of PNG bytes; <paramref name="source"/> is named in errors.</summary>
    /// <exception cref="InvalidInputException">The bytes are not a well-formed PNG.</exception>
    public static IReadOnlyDictionary<string, string> Read(byte[] png, string source = "PNG bytes")
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var chunk in Chunks(png, source))
        {
            var data = png.AsSpan(chunk.DataStart, chunk.Length);
            var entry = chunk.Type switch
            {
                "tEXt" => ParseText(data),
                "zTXt" => ParseCompressedText(data, source),
                "iTXt" => ParseInternationalText(data, source),
                _ => (KeyValuePair<string, string>?)null,
            };
            if (entry is { } e) entries.TryAdd(e.Key, e.Value);
        }
        return entries;
    }

    private readonly record struct Chunk(string Type, int DataStart, int Length)
    {
        public int End => DataStart + Length + 4;
    }

    private static IEnumerable<Chunk> Chunks(byte[] png, string source)
    {
        if (png.Length < Signature.Length || !png.AsSpan(0, Signature.Length).SequenceEqual(Signature))
            throw new InvalidInputException($"{source}: not a PNG file (bad signature)");
        int position = Signature.Length;
        bool first = true;
        while (position < png.Length)
        {
            if (png.Length - position < 12) throw new InvalidInputException($"{source}: truncated PNG chunk at byte {position}");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(position));
            string type = Latin1.GetString(png, position + 4, 4);
            if (length > (uint)(png.Length - position - 12))
                throw new InvalidInputException($"{source}: PNG chunk {type} at byte {position} runs past the end of the file");
            if (first && type != "IHDR") throw new InvalidInputException($"{source}: PNG does not start with IHDR");
            first = false;
            var chunk = new Chunk(type, position + 8, (int)length);
            yield return chunk;
            if (type == "IEND") yield break;
            position = chunk.End;
        }
        throw new InvalidInputException($"{source}: PNG ends without IEND");
    }

    private static (string Type, byte[] Data) TextChunk(string key, string value)
    {
        if (key.Length is < 1 or > 79 || key.Any(c => c > 0xFF || c < 0x20) || key.Trim().Length != key.Length)
            throw new InvalidInputException($"PNG text keyword '{key}' is invalid; use 1 to 79 printable Latin-1 characters");
        if (value.All(c => c <= 0xFF && c != '\0'))
            return ("tEXt", [.. Latin1.GetBytes(key), 0, .. Latin1.GetBytes(value)]);
        // keyword, NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, UTF-8 text.
        return ("iTXt", [.. Latin1.GetBytes(key), 0, 0, 0, 0, 0, .. Encoding.UTF8.GetBytes(value)]);
    }

    private static void WriteChunk(Stream output, (string Type, byte[] Data) chunk)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)chunk.Data.Length);
        output.Write(word);
        byte[] type = Latin1.GetBytes(chunk.Type);
        output.Write(type);
        output.Write(chunk.Data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32([.. type, .. chunk.Data]));
        output.Write(word);
    }

    private static KeyValuePair<string, string>? ParseText(ReadOnlySpan<byte> data)
    {
        int nul = data.IndexOf((byte)0);
        return nul <= 0 ? null : KeyValuePair.Create(Latin1.GetString(data[..nul]), Latin1.GetString(data[(nul + 1)..]));
    }

    private static KeyValuePair<string, string>? ParseCompressedText(ReadOnlySpan<byte> data, string source)
    {
        int nul = data.IndexOf((byte)0);
        if (nul <= 0 || data.Length < nul + 2) return null;
        return KeyValuePair.Create(Latin1.GetString(data[..nul]), Latin1.GetString(Inflate(data[(nul + 2)..], source)));
    }

    private static KeyValuePair<string, string>? ParseInternationalText(ReadOnlySpan<byte> data, string source)
    {
        int nul = data.IndexOf((byte)0);
        if (nul <= 0 || data.Length < nul + 3) return null;
        bool compressed = data[nul + 1] == 1;
        var rest = data[(nul + 3)..];
        int languageEnd = rest.IndexOf((byte)0);
        if (languageEnd < 0) return null;
        rest = rest[(languageEnd + 1)..];
        int translatedEnd = rest.IndexOf((byte)0);
        if (translatedEnd < 0) return null;
        rest = rest[(translatedEnd + 1)..];
        var text = compressed ? Inflate(rest, source) : rest.ToArray();
        return KeyValuePair.Create(Latin1.GetString(data[..nul]), Encoding.UTF8.GetString(text));
    }

    private static byte[] Inflate(ReadOnlySpan<byte> compressed, string source)
    {
        try
        {
            using var input = new ZLibStream(new MemoryStream(compressed.ToArray()), CompressionMode.Decompress);
            using var output = new MemoryStream();
            input.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidInputException($"{source}: a compressed PNG text chunk is corrupt ({e.Message})");
        }
    }

    // CRC-32 (ISO 3309 / ITU-T V.42, polynomial 0xEDB88320 reflected), as the PNG specification defines it.
    internal static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFF;
    }

    private static uint[] CreateCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
