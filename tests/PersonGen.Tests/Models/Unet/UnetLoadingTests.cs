using PersonGen.IO;
using PersonGen.Models.Unet;
using PersonGen.Tests.Support;
using static TorchSharp.torch;

namespace PersonGen.Tests.Models.Unet;

/// <summary>Strict loading of diffusers unet/ folders and validation of their configs.</summary>
public class UnetLoadingTests
{
    [Fact]
    public void The_tiny_sd2_unet_loads_strictly_and_runs()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var unet = UNet2DConditionModel.Load(TestPaths.Golden("tiny_sd2", "unet"), ScalarType.Float32, CPU);
        Assert.Equal(new[] { 2, 2, 4, 4 }, unet.Config.HeadCounts);
        Assert.Equal(684, unet.state_dict().Count);
        Assert.Equal(217_772, unet.parameters().Sum(p => p.numel()));
        using var file = SafetensorsFile.Open(TestPaths.Golden("tiny_sd2", "unet", "diffusion_pytorch_model.safetensors"));
        using var stored = file.Read("up_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight");
        Assert.Equal(0, UnetGoldenTests.MaxAbsDiff(stored, unet.state_dict()["up_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight"]));

        var output = unet.call(randn(1, 4, 16, 16), tensor(501L), randn(1, 77, 32));
        Assert.Equal(new long[] { 1, 4, 16, 16 }, output.shape);
        Assert.True(output.isfinite().all().item<bool>());
    }

    [Fact]
    public void A_checkpoint_with_a_missing_and_a_misshaped_tensor_names_both()
    {
        string source = TestPaths.Golden("tiny_sd2", "unet");
        string folder = TestPaths.NewTempDirectory();
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(folder, "config.json"));
        var tensors = SafetensorsFile.Load(Path.Combine(source, "diffusion_pytorch_model.safetensors"));
        tensors.Remove("conv_in.bias", out var removed);
        removed!.Dispose();
        tensors["conv_out.weight"] = zeros(4, 8, 1, 1);
        tensors["extra.weight"] = zeros(1);
        SafetensorsFile.Save(Path.Combine(folder, "diffusion_pytorch_model.safetensors"), tensors);

        var error = Assert.Throws<ModelLoadException>(() => UNet2DConditionModel.Load(folder, ScalarType.Float32, CPU));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("missing conv_in.bias", error.Message);
        Assert.Contains("unexpected extra.weight", error.Message);
        Assert.Contains("mis-shaped conv_out.weight (checkpoint [4,8,1,1], model [4,8,3,3])", error.Message);
    }

    [Fact]
    public void A_folder_without_weights_says_which_file_is_missing()
    {
        string folder = TestPaths.NewTempDirectory();
        File.Copy(TestPaths.Golden("tiny_sd2", "unet", "config.json"), Path.Combine(folder, "config.json"));
        var error = Assert.Throws<ModelLoadException>(() => UNet2DConditionModel.Load(folder, ScalarType.Float32, CPU));
        Assert.Contains("diffusion_pytorch_model.safetensors", error.Message);
    }

    [Theory]
    [InlineData("\"class_embed_type\": \"timestep\"", "unsupported field class_embed_type = \"timestep\"")]
    [InlineData("\"addition_embed_type\": \"text_time\"", "unsupported field addition_embed_type = \"text_time\"")]
    [InlineData("\"time_cond_proj_dim\": 256", "unsupported field time_cond_proj_dim = 256")]
    [InlineData("\"only_cross_attention\": true", "unsupported field only_cross_attention = true")]
    [InlineData("\"dual_cross_attention\": true", "unsupported field dual_cross_attention = true")]
    [InlineData("\"resnet_time_scale_shift\": \"scale_shift\"", "unsupported field resnet_time_scale_shift = \"scale_shift\"")]
    [InlineData("\"down_block_types\": [\"SimpleCrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\", \"DownBlock2D\"]", "unsupported field down_block_types = SimpleCrossAttnDownBlock2D")]
    [InlineData("\"attention_head_dim\": [2, 4]", "attention_head_dim has 2 values for 3 blocks")]
    public void An_unsupported_config_value_is_named(string field, string message)
    {
        string path = WriteConfig(field);
        var error = Assert.Throws<ModelLoadException>(() => UnetConfig.FromFile(path));
        Assert.Contains(message, error.Message);
        Assert.StartsWith(path, error.Message);
    }

    [Fact]
    public void Defaults_are_diffusers_and_unknown_keys_are_ignored()
    {
        var config = UnetConfig.FromFile(WriteConfig("\"some_future_key\": {\"x\": 1}"));
        Assert.Equal(new[] { 32, 64, 64 }, config.BlockOutChannels);
        var empty = UnetConfig.FromFile(WriteRaw("{}"));
        Assert.Equal(new[] { 320, 640, 1280, 1280 }, empty.BlockOutChannels);
        Assert.Equal(new[] { 8, 8, 8, 8 }, empty.HeadCounts);
        Assert.Equal(new[] { 2, 2, 2, 2 }, empty.LayersPerBlock);
        Assert.Equal(1280, empty.CrossAttentionDim[0]);
        Assert.Equal(32, empty.NormNumGroups);
        Assert.True(empty.FlipSinToCos);
        Assert.False(empty.UseLinearProjection);
    }

    [Fact]
    public void Num_attention_heads_takes_precedence_over_attention_head_dim()
    {
        var config = UnetConfig.FromFile(WriteConfig("\"num_attention_heads\": 4"));
        Assert.Equal(new[] { 4, 4, 4 }, config.HeadCounts);
        var plain = UnetConfig.FromFile(WriteConfig("\"sample_size\": 16"));
        Assert.Equal(new[] { 2, 4, 4 }, plain.HeadCounts);
    }

    private static string WriteConfig(string override_)
    {
        // The golden tiny config with one key replaced (JSON keeps the last duplicate).
        string json = File.ReadAllText(TestPaths.Golden("unet", "config.json")).TrimEnd().TrimEnd('}');
        return WriteRaw(json + ", " + override_ + "}");
    }

    private static string WriteRaw(string json)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "config.json");
        File.WriteAllText(path, json);
        return path;
    }
}
