using System.Buffers.Binary;
using System.Text;
using PersonGen.IO;
using PersonGen.Tests.Support;
using static TorchSharp.torch;

namespace PersonGen.Tests.IO;

public class SafetensorsFileTests
{
    public static IEnumerable<object[]> DTypes => SafetensorsDTypes.All.Select(d => new object[] { d });

    [Theory]
    [MemberData(nameof(DTypes))]
    public void Every_dtype_round_trips_bit_for_bit(string dtype)
    {
        using var scope = NewDisposeScope();
        var type = SafetensorsDTypes.ToScalarType(dtype);
        var values = (randn(3, 5, dtype: ScalarType.Float64) * 50).to_type(type);
        var scalar = full([], 7, dtype: type);
        var empty = zeros([0, 3], type);
        string path = Path.Combine(TestPaths.NewTempDirectory(), $"{dtype}.safetensors");
        SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["values"] = values, ["scalar"] = scalar, ["empty"] = empty });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["values", "scalar", "empty"], file.Entries.Select(e => e.Name));
        Assert.All(file.Entries, e => Assert.Equal(dtype, e.DType));
        foreach (var (name, expected) in new[] { ("values", values), ("scalar", scalar), ("empty", empty) })
        {
            var read = file.Read(name);
            Assert.Equal(type, read.dtype);
            Assert.Equal(expected.shape, read.shape);
            Assert.True(read.bytes.SequenceEqual(expected.bytes), $"{dtype} {name} bytes differ");
        }
    }

    [Fact]
    public void A_saved_file_has_the_published_layout_byte_for_byte()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(TestPaths.NewTempDirectory(), "known.safetensors");
        SafetensorsFile.Save(path,
            new Dictionary<string, Tensor> { ["a"] = tensor(new float[] { 1, 2 }), ["b"] = tensor(new long[] { 3 }) },
            new Dictionary<string, string> { ["format"] = "pt" });

        const string json = """{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}}""";
        Assert.Equal(139, json.Length); // padded with 5 spaces to 144
        var expected = new List<byte>();
        expected.AddRange(BitConverter.GetBytes(144UL)); // the test host is little-endian, like the format
        expected.AddRange(Encoding.ASCII.GetBytes(json + "     "));
        expected.AddRange(new byte[] { 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40 }); // 1f, 2f
        expected.AddRange(new byte[] { 0x03, 0, 0, 0, 0, 0, 0, 0 }); // 3L
        Assert.Equal(expected.ToArray(), File.ReadAllBytes(path));
    }

    [Fact]
    public void Header_length_is_little_endian_and_a_multiple_of_8_for_any_name_length()
    {
        using var scope = NewDisposeScope();
        string dir = TestPaths.NewTempDirectory();
        for (int length = 1; length <= 8; length++)
        {
            string path = Path.Combine(dir, $"{length}.safetensors");
            SafetensorsFile.Save(path, new Dictionary<string, Tensor> { [new string('x', length)] = ones(1) });
            byte[] bytes = File.ReadAllBytes(path);
            ulong header = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(0UL, header % 8);
            Assert.Equal((long)header + 8 + 4, bytes.Length);
            Assert.Equal((byte)'}', bytes[8..(8 + (int)header)].Reverse().First(b => b != (byte)' '));
        }
    }

    [Fact]
    public void Metadata_and_non_ascii_names_round_trip()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(TestPaths.NewTempDirectory(), "meta.safetensors");
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["prompt"] = "a \"V*\" dog, café ✓" };
        SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["émbedding.<V*>"] = ones(2) }, metadata);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(metadata, file.Metadata);
        Assert.Equal("émbedding.<V*>", Assert.Single(file.Entries).Name);
    }

    [Fact]
    public void Read_converts_dtype_and_ReadAll_leaves_integer_tensors_alone()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(TestPaths.NewTempDirectory(), "mixed.safetensors");
        var half = randn(4, 4).to_type(ScalarType.Float16);
        var ids = arange(5, dtype: ScalarType.Int64);
        SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["half"] = half, ["ids"] = ids });

        using var file = SafetensorsFile.Open(path);
        var asFloat = file.Read("half", ScalarType.Float32, CPU);
        Assert.Equal(ScalarType.Float32, asFloat.dtype);
        Assert.Equal(0f, (asFloat - half.to_type(ScalarType.Float32)).abs().max().item<float>());
        var all = file.ReadAll(ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, all["half"].dtype);
        Assert.Equal(ScalarType.Int64, all["ids"].dtype);
        Assert.True(all["ids"].equal(ids).all().item<bool>());
    }

    [Fact]
    public void Non_contiguous_and_gradient_tensors_are_saved_by_value()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(TestPaths.NewTempDirectory(), "views.safetensors");
        var weight = randn([3, 4], requires_grad: true);
        var transposed = weight.t();
        SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["t"] = transposed });
        var read = SafetensorsFile.Load(path)["t"];
        Assert.Equal(new long[] { 4, 3 }, read.shape);
        Assert.Equal(0f, (read - transposed.detach()).abs().max().item<float>());
    }

    [Fact]
    public void Every_golden_safetensors_file_passes_validation()
    {
        var files = Directory.EnumerateFiles(TestPaths.Golden(), "*.safetensors", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        foreach (string path in files)
        {
            using var file = SafetensorsFile.Open(path);
            Assert.NotEmpty(file.Entries);
        }
    }

    [Fact]
    public void Golden_unet_inputs_load_with_their_shapes()
    {
        using var file = SafetensorsFile.Open(TestPaths.Golden("unet", "io.safetensors"));
        using var sample = file.Read("sample");
        Assert.Equal(new long[] { 2, 4, 16, 16 }, sample.shape);
        using var weights = SafetensorsFile.Open(TestPaths.Golden("unet", "diffusion_pytorch_model.safetensors"));
        Assert.Equal("pt", weights.Metadata["format"]);
    }

    [Fact]
    public void Unknown_tensor_name_and_missing_file_are_clear_errors()
    {
        using var file = SafetensorsFile.Open(TestPaths.Golden("unet", "io.safetensors"));
        var unknown = Assert.Throws<InvalidCheckpointException>(() => file.Read("nope"));
        Assert.Contains("no tensor named 'nope'", unknown.Message);
        string missing = Path.Combine(TestPaths.NewTempDirectory(), "missing.safetensors");
        Assert.Equal("file not found", Assert.Throws<InvalidCheckpointException>(() => SafetensorsFile.Open(missing)).Problem);
    }

    [Fact]
    public void Saving_repeated_or_reserved_names_is_refused()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(TestPaths.NewTempDirectory(), "bad.safetensors");
        var pairs = new[] { KeyValuePair.Create("a", ones(1)), KeyValuePair.Create("a", ones(1)) };
        Assert.Throws<PersonGenException>(() => SafetensorsFile.Save(path, pairs));
        Assert.Throws<PersonGenException>(() => SafetensorsFile.Save(path, [KeyValuePair.Create("__metadata__", ones(1))]));
        Assert.False(File.Exists(path));
    }

    public static IEnumerable<object[]> MalformedNames => MalformedSafetensors.Names;

    [Theory]
    [MemberData(nameof(MalformedNames))]
    public void A_malformed_file_gives_an_error_naming_the_file_and_the_problem(string name)
    {
        var malformed = MalformedSafetensors.Get(name);
        string path = MalformedSafetensors.Write(malformed, TestPaths.NewTempDirectory());
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidCheckpointException>(() =>
        {
            using var file = SafetensorsFile.Open(path);
            foreach (var entry in file.Entries) file.Read(entry.Name).Dispose();
        });
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Assert.Equal(path, error.Path);
        Assert.Contains(malformed.ExpectedProblem, error.Problem);
        Assert.DoesNotContain('\n', error.Message);
        Assert.True(allocated < 16 << 20, $"{name}: allocated {allocated} bytes");
    }

    [Fact]
    public void The_malformed_corpus_has_at_least_20_distinct_files()
    {
        Assert.True(MalformedSafetensors.All.Count >= 20);
        Assert.Equal(MalformedSafetensors.All.Count, MalformedSafetensors.All.Select(c => Convert.ToBase64String(c.Bytes)).Distinct().Count());
    }
}
