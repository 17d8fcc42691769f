using System.Text.Json;
using PersonGen.Models.Unet;
using PersonGen.Tests.Support;
using static TorchSharp.torch;

namespace PersonGen.Tests.Models.Unet;

/// <summary>The full-size SD 2 base and SD 1.5 UNets have diffusers' exact state-dict names, shapes and order.</summary>
public class UnetArchitectureTests
{
    public static TheoryData<string> FullSizeModels => new() { "sd2_unet", "sd15_unet" };

    [Theory]
    [MemberData(nameof(FullSizeModels))]
    public void The_config_file_builds_the_golden_parameter_list(string model)
    {
        var config = UnetConfig.FromFile(TestPaths.Golden("param_lists", model + ".config.json"));
        AssertParameterList(config, model);
    }

    [Theory]
    [MemberData(nameof(FullSizeModels))]
    public void The_preset_builds_the_golden_parameter_list(string model)
    {
        AssertParameterList(model == "sd2_unet" ? UnetConfig.Sd2Base : UnetConfig.Sd15, model);
    }

    [Fact]
    public void Presets_state_the_head_counts_per_block()
    {
        Assert.Equal(new[] { 5, 10, 20, 20 }, UnetConfig.Sd2Base.HeadCounts);
        Assert.Equal(new[] { 8, 8, 8, 8 }, UnetConfig.Sd15.HeadCounts);
        Assert.Equal(1024, UnetConfig.Sd2Base.CrossAttentionDim[0]);
        Assert.Equal(768, UnetConfig.Sd15.CrossAttentionDim[0]);
    }

    [Fact]
    public void A_freshly_built_unet_starts_from_pytorch_initial_values()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var unet = new UNet2DConditionModel(UnetConfig.FromFile(TestPaths.Golden("tiny_sd2", "unet", "config.json")));
        var norms = unet.named_parameters().Where(p => p.name.Contains("norm", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(norms);
        foreach (var (name, parameter) in norms)
            Assert.True(parameter.equal(name.EndsWith(".weight", StringComparison.Ordinal) ? ones_like(parameter) : zeros_like(parameter)).all().item<bool>(), name);
        var output = unet.call(randn(1, 4, 16, 16), tensor(1L), randn(1, 77, 32));
        Assert.True(output.isfinite().all().item<bool>());
    }

    private static void AssertParameterList(UnetConfig config, string model)
    {
        using var golden = JsonDocument.Parse(File.ReadAllText(TestPaths.Golden("param_lists", model + ".json")));
        var expected = golden.RootElement.GetProperty("tensors").EnumerateArray()
            .Select(t => $"{t[0].GetString()} [{string.Join(",", t[1].EnumerateArray().Select(d => d.GetInt64()))}] {t[2].GetString()}")
            .ToList();

        // The meta device gives every tensor its shape without allocating or initialising 865M parameters.
        using var unet = new UNet2DConditionModel(config, ScalarType.Float32, device("meta"));
        var actual = unet.state_dict()
            .Select(kv => $"{kv.Key} [{string.Join(",", kv.Value.shape)}] {(kv.Value.dtype == ScalarType.Float32 ? "float32" : kv.Value.dtype.ToString())}")
            .ToList();

        Assert.Equal(golden.RootElement.GetProperty("num_tensors").GetInt32(), actual.Count);
        Assert.Equal(expected, actual);
        long total = unet.parameters().Sum(p => p.numel());
        Assert.Equal(golden.RootElement.GetProperty("total_params").GetInt64(), total);
    }
}
