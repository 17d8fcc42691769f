using PersonGen.IO;
using PersonGen.Tests.Support;
using static TorchSharp.torch;

namespace PersonGen.Tests.IO;

public class SafetensorsSmokeTests
{
    [Fact]
    public void Golden_unet_inputs_load_with_their_shapes()
    {
        using var file = SafetensorsFile.Open(TestPaths.Golden("unet", "io.safetensors"));
        using var sample = file.Read("sample");
        Assert.Equal(new long[] { 2, 4, 16, 16 }, sample.shape);
        Assert.True(sample.abs().max().item<float>() > 0);
    }

    [Fact]
    public void A_saved_file_reads_back_identically()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "x.safetensors");
        using var a = randn(3, 5);
        using var b = arange(7, dtype: ScalarType.Int64);
        SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b }, new Dictionary<string, string> { ["format"] = "pt" });
        var loaded = SafetensorsFile.Load(path);
        Assert.True(loaded["a"].equal(a).all().item<bool>());
        Assert.True(loaded["b"].equal(b).all().item<bool>());
    }
}
