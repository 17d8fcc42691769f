using System.Buffers.Binary;
using System.Text;

namespace PersonGen.Tests.Support;

/// <summary>
/// Generates malformed safetensors files, each with a fragment of the problem its error must name.
/// Files are built from raw bytes, so every validation rule can be broken on its own.
/// </summary>
public static class MalformedSafetensors
{
    /// <summary>One malformed file: a short case name, its bytes, and text the error message must contain.</summary>
    public sealed record Case(string Name, byte[] Bytes, string ExpectedProblem)
    {
        public override string ToString() => Name;
    }

    public static IReadOnlyList<Case> All { get; } = Build();

    public static IEnumerable<object[]> Names => All.Select(c => new object[] { c.Name });

    public static Case Get(string name) => All.Single(c => c.Name == name);

    /// <summary>Writes the case to <paramref name="directory"/> and returns its path.</summary>
    public static string Write(Case malformed, string directory)
    {
        string path = Path.Combine(directory, malformed.Name + ".safetensors");
        System.IO.File.WriteAllBytes(path, malformed.Bytes);
        return path;
    }

    private static List<Case> Build()
    {
        const string f32x2 = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";
        return
        [
            new("empty_file", [], "too short"),
            new("five_bytes", [1, 2, 3, 4, 5], "too short"),
            new("header_length_max", Prefix(ulong.MaxValue, 16), "limit"),
            new("header_length_over_cap", Prefix(200_000_000, 64), "limit"),
            new("header_length_past_end", Prefix(1000, 64), "exceeds the file size"),
            new("truncated_header", Truncate(File(f32x2, 8), 20), "exceeds the file size"),
            new("bad_json", File("{\"a\": {\"dtype\": ", 0), "not valid JSON"),
            new("json_array", File("[1, 2, 3]", 0), "does not start with '{'"),
            new("leading_space", File(" {}", 0), "does not start with '{'"),
            new("json_too_deep", File("{\"a\":" + new string('[', 200) + new string(']', 200) + "}", 0), "not valid JSON"),
            new("non_utf8_header", File([.. "{\""u8, 0xFF, 0xFE, .. "\":1}"u8], 0), "UTF-8"),
            new("unknown_dtype", File("""{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}""", 16), "unsupported dtype 'F128'"),
            new("dtype_not_string", File("""{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}""", 4), "no dtype string"),
            new("entry_not_object", File("""{"a":[1,2]}""", 0), "entry 'a' is not an object"),
            new("missing_shape", File("""{"a":{"dtype":"F32","data_offsets":[0,4]}}""", 4), "no shape array"),
            new("negative_dimension", File("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4), "invalid shape entry -1"),
            new("fractional_dimension", File("""{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}""", 4), "invalid shape entry 1.5"),
            new("shape_overflow", File("""{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""", 8), "too large"),
            new("offsets_one_number", File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}""", 4), "invalid data_offsets"),
            new("offsets_reversed", File("""{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}""", 4), "invalid data_offsets"),
            new("offsets_strings", File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}}""", 4), "invalid data_offsets"),
            new("wrong_dtype_size", File("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", 4), "spans 4 bytes but F32[2] needs 8"),
            new("offsets_out_of_range", File(f32x2, 4), "truncated"),
            new("truncated_data", Truncate(File(f32x2, 8), -3), "truncated"),
            new("overlapping", File("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12), "overlaps"),
            new("gap", File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12), "gap before tensor 'b'"),
            new("not_starting_at_zero", File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), "gap before tensor 'a'"),
            new("trailing_bytes", File(f32x2, 12), "4 trailing bytes"),
            new("duplicate_key", File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), "names 'a' twice"),
            new("metadata_not_object", File("""{"__metadata__":"pt"}""", 0), "__metadata__ is not an object"),
            new("metadata_number_value", File("""{"__metadata__":{"format":1}}""", 0), "value 'format' is not a string"),
        ];
    }

    /// <summary>A file with the given header (padded to 8 bytes) and <paramref name="dataBytes"/> bytes of data.</summary>
    private static byte[] File(string header, int dataBytes) => File(Encoding.UTF8.GetBytes(header), dataBytes);

    private static byte[] File(byte[] header, int dataBytes)
    {
        int padded = (header.Length + 7) / 8 * 8;
        var bytes = new byte[8 + padded + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
        header.CopyTo(bytes, 8);
        bytes.AsSpan(8 + header.Length, padded - header.Length).Fill((byte)' ');
        return bytes;
    }

    /// <summary>An 8-byte header length followed by <paramref name="filler"/> '{' bytes.</summary>
    private static byte[] Prefix(ulong headerLength, int filler)
    {
        var bytes = new byte[8 + filler];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength);
        bytes.AsSpan(8).Fill((byte)'{');
        return bytes;
    }

    /// <summary>Cuts a file to <paramref name="length"/> bytes, or drops the last -<paramref name="length"/> bytes.</summary>
    private static byte[] Truncate(byte[] bytes, int length) => bytes[..(length >= 0 ? length : bytes.Length + length)];
}
