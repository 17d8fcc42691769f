using System.IO.Compression;
using PersonGen.IO;
using PersonGen.Tests.Support;
using static TorchSharp.torch;

namespace PersonGen.Tests.IO;

public class PickleCheckpointTests
{
    [Theory]
    [InlineData("unet")]
    [InlineData("text_encoder")]
    public void Svdiff_pickle_deltas_equal_the_safetensors_copy(string component)
    {
        using var scope = NewDisposeScope();
        var fromPickle = CheckpointFile.Load(TestPaths.Golden("svdiff", "checkpoint-0", component + ".bin"));
        var fromSafetensors = CheckpointFile.Load(TestPaths.Golden("svdiff", $"deltas_{component}.safetensors"));
        Assert.Equal(fromSafetensors.Keys.Order(), fromPickle.Keys.Order());
        if (component == "unet") Assert.Contains("down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.delta", fromPickle.Keys);
        foreach (var (name, expected) in fromSafetensors)
        {
            var actual = fromPickle[name];
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.Equal(0.0, (actual - expected).abs().max().item<float>());
        }
    }

    [Fact]
    public void Dtype_conversion_applies_to_pickle_tensors()
    {
        using var scope = NewDisposeScope();
        var tensors = PickleCheckpoint.Load(TestPaths.Golden("svdiff", "checkpoint-0", "text_encoder.bin"), ScalarType.Float64);
        Assert.All(tensors.Values, t => Assert.Equal(ScalarType.Float64, t.dtype));
    }

    [Fact]
    public void A_pickle_that_calls_a_python_function_is_refused_without_running_it()
    {
        // {"a": posix.system("touch pwned")} in pickle protocol 2, inside a torch.save-style zip.
        byte[] pickle =
        [
            0x80, 0x02, (byte)'}', (byte)'X', 1, 0, 0, 0, (byte)'a',
            (byte)'c', .. "posix\nsystem\n"u8,
            (byte)'X', 11, 0, 0, 0, .. "touch pwned"u8,
            0x85, (byte)'R', (byte)'s', (byte)'.',
        ];
        string path = WriteArchive(pickle);
        var error = Assert.Throws<InvalidCheckpointException>(() => PickleCheckpoint.Load(path));
        Assert.Equal(path, error.Path);
        Assert.Contains("Python object of class posix.system", error.Problem);
        Assert.False(File.Exists("pwned"));
    }

    [Fact]
    public void A_pickle_whose_top_level_is_not_a_dict_is_refused()
    {
        string path = WriteArchive([0x80, 0x02, (byte)']', (byte)'.']); // []
        var error = Assert.Throws<InvalidCheckpointException>(() => PickleCheckpoint.Load(path));
        Assert.Contains("dict", error.Problem);
    }

    [Fact]
    public void A_non_zip_file_and_a_broken_archive_are_refused()
    {
        string dir = TestPaths.NewTempDirectory();
        string legacy = Path.Combine(dir, "legacy.pt");
        File.WriteAllBytes(legacy, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc]);
        Assert.Contains("zip-format", Assert.Throws<InvalidCheckpointException>(() => PickleCheckpoint.Load(legacy)).Problem);
        string broken = Path.Combine(dir, "broken.bin");
        File.WriteAllBytes(broken, File.ReadAllBytes(TestPaths.Golden("svdiff", "checkpoint-0", "text_encoder.bin"))[..600]);
        var error = Assert.Throws<InvalidCheckpointException>(() => PickleCheckpoint.Load(broken));
        Assert.Equal(broken, error.Path);
    }

    [Fact]
    public void Unknown_extensions_are_refused_by_CheckpointFile()
    {
        var error = Assert.Throws<InvalidCheckpointException>(() => CheckpointFile.Load("weights.onnx"));
        Assert.Contains(".safetensors", error.Problem);
    }

    private static string WriteArchive(byte[] pickle)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "archive.bin");
        using (var archive = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using var stream = archive.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open();
            stream.Write(pickle);
        }
        return path;
    }
}
