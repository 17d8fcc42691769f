using System.Text.Json;
using PersonGen.Diffusion;
using PersonGen.IO;
using PersonGen.Models.Vae;
using PersonGen.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Tests.Models.Vae;

public class AutoencoderKLTests
{
    private const double Tolerance = 1e-4;
    private static readonly string GoldenIo = TestPaths.Golden("vae", "io.safetensors");

    [Fact]
    public void Encode_equals_diffusers_on_the_golden_vae()
    {
        using var vae = AutoencoderKL.Load(TestPaths.Golden("vae"), ScalarType.Float32, CPU);
        using var golden = SafetensorsFile.Open(GoldenIo);
        using var image = golden.Read("image");
        var recorded = Record(vae, "encoder", "quant_conv");
        using var latent = vae.Encode(image);

        AssertClose(golden.Read("encoder_out"), recorded["encoder"], "encoder_out");
        AssertClose(golden.Read("moments"), recorded["quant_conv"], "moments");
        AssertClose(golden.Read("latent_mean"), latent.Mean, "latent_mean");
        AssertClose(golden.Read("latent_logvar"), latent.LogVar, "latent_logvar");
        AssertClose(golden.Read("latent_std"), latent.Std, "latent_std");
    }

    [Fact]
    public void Decode_equals_diffusers_on_the_golden_vae_block_by_block()
    {
        using var vae = AutoencoderKL.Load(TestPaths.Golden("vae"), ScalarType.Float32, CPU);
        using var golden = SafetensorsFile.Open(GoldenIo);
        string[] blocks =
        [
            "post_quant_conv", "decoder.conv_in", "decoder.mid_block", "decoder.up_blocks.0", "decoder.up_blocks.1",
            "decoder.up_blocks.2", "decoder.up_blocks.3", "decoder.conv_norm_out", "decoder.conv_out",
        ];
        var recorded = Record(vae, blocks);
        using var z = golden.Read("z");
        using var decoded = vae.Decode(z);
        foreach (string block in blocks) AssertClose(golden.Read($"act_decode_z.{block}"), recorded[block], block);
        AssertClose(golden.Read("decoded_z"), decoded, "decoded_z");

        using var mean = golden.Read("latent_mean");
        using var decodedMean = vae.Decode(mean);
        AssertClose(golden.Read("decoded_mean"), decodedMean, "decoded_mean");
    }

    [Fact]
    public void Sample_is_mean_plus_std_times_the_generator_draw()
    {
        using var vae = AutoencoderKL.Load(TestPaths.Golden("vae"), ScalarType.Float32, CPU);
        using var image = SafetensorsFile.Load(GoldenIo)["image"];
        using var latent = vae.Encode(image);
        using var generator = NoiseSource.CreateGenerator(3);
        using var sample = latent.Sample(generator);
        using var noise = NoiseSource.Randn(latent.Mean.shape, 3);
        using var expected = latent.Mean + latent.Std * noise;
        Assert.True(expected.equal(sample).all().item<bool>());
    }

    [Fact]
    public void Tiny_sd2_vae_loads_strictly_and_keeps_the_spatial_factor_of_8()
    {
        using var vae = AutoencoderKL.Load(TestPaths.Golden("tiny_sd2", "vae"), ScalarType.Float32, CPU);
        Assert.Equal(0.18215, vae.ScalingFactor);
        Assert.Equal(111_839, vae.parameters().Sum(p => p.numel()));
        using var z = zeros(1, 4, 4, 4);
        using var image = vae.Decode(z);
        Assert.Equal(new long[] { 1, 3, 32, 32 }, image.shape);
    }

    [Fact]
    public void Full_size_sd_vae_has_the_golden_parameter_names_shapes_and_order()
    {
        var config = VaeConfig.Load(TestPaths.Golden("param_lists", "sd_vae.config.json"));
        Assert.Equal(VaeConfig.Sd2Base.BlockOutChannels, config.BlockOutChannels);
        Assert.Equal(VaeConfig.Sd2Base.LayersPerBlock, config.LayersPerBlock);
        Assert.Equal(VaeConfig.Sd2Base.NormNumGroups, config.NormNumGroups);
        using var vae = new AutoencoderKL(config);
        using var golden = JsonDocument.Parse(File.ReadAllText(TestPaths.Golden("param_lists", "sd_vae.json")));
        var expected = golden.RootElement.GetProperty("tensors").EnumerateArray()
            .Select(t => $"{t[0].GetString()} [{string.Join(",", t[1].EnumerateArray().Select(d => d.GetInt64()))}] {t[2].GetString()}")
            .ToList();
        var actual = vae.state_dict()
            .Select(kv => $"{kv.Key} [{string.Join(",", kv.Value.shape)}] {kv.Value.dtype.ToString().ToLowerInvariant()}")
            .ToList();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Loading_in_float64_matches_the_reference_run_in_double_precision()
    {
        using var vae = AutoencoderKL.Load(TestPaths.Golden("vae"), ScalarType.Float64, CPU);
        using var golden = SafetensorsFile.Open(GoldenIo);
        using var image = golden.Read("image", ScalarType.Float64);
        using var z = golden.Read("z", ScalarType.Float64);
        using var latent = vae.Encode(image);
        using var decoded = vae.Decode(z);
        // Observed about 5e-9 (libtorch 2.10 vs 1.13 kernels), far below the float32 error of ~1e-6.
        AssertClose(golden.Read("latent_mean_fp64"), latent.Mean, "latent_mean_fp64", 1e-7);
        AssertClose(golden.Read("latent_logvar_fp64"), latent.LogVar, "latent_logvar_fp64", 1e-7);
        AssertClose(golden.Read("decoded_z_fp64"), decoded, "decoded_z_fp64", 1e-7);
    }

    [Fact]
    public void Loading_in_bfloat16_converts_every_weight_and_decodes_in_bfloat16()
    {
        using var vae = AutoencoderKL.Load(TestPaths.Golden("vae"), ScalarType.BFloat16, CPU);
        Assert.All(vae.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        using var z = SafetensorsFile.Open(GoldenIo).Read("z", ScalarType.BFloat16);
        using var decoded = vae.Decode(z);
        Assert.Equal(ScalarType.BFloat16, decoded.dtype);
        Assert.Equal(new long[] { 1, 3, 64, 64 }, decoded.shape);
        Assert.True(decoded.isfinite().all().item<bool>());
    }

    [Fact]
    public void Deprecated_mid_block_attention_names_are_renamed_on_load()
    {
        string dir = CopyTinyVae(tensors =>
        {
            foreach (string key in tensors.Keys.Where(k => k.Contains("mid_block.attentions.0.")).ToList())
            {
                string old = key.Replace(".to_q.", ".query.").Replace(".to_k.", ".key.").Replace(".to_v.", ".value.").Replace(".to_out.0.", ".proj_attn.");
                var value = tensors[key];
                tensors.Remove(key);
                tensors[old] = value;
            }
        });
        using var renamed = AutoencoderKL.Load(dir, ScalarType.Float32, CPU);
        using var original = AutoencoderKL.Load(TestPaths.Golden("vae"), ScalarType.Float32, CPU);
        using var z = SafetensorsFile.Load(GoldenIo)["z"];
        using var a = renamed.Decode(z);
        using var b = original.Decode(z);
        Assert.True(a.equal(b).all().item<bool>());
    }

    [Fact]
    public void A_checkpoint_with_missing_extra_and_mis_shaped_tensors_lists_them_all_in_one_line()
    {
        string dir = CopyTinyVae(tensors =>
        {
            tensors.Remove("decoder.conv_out.bias");
            tensors["decoder.extra.weight"] = zeros(2);
            tensors["quant_conv.weight"] = zeros(8, 8, 3, 3);
        });
        var error = Assert.Throws<ModelLoadException>(() => AutoencoderKL.Load(dir, ScalarType.Float32, CPU));
        Assert.Contains("missing decoder.conv_out.bias", error.Message);
        Assert.Contains("unexpected decoder.extra.weight", error.Message);
        Assert.Contains("mis-shaped quant_conv.weight (checkpoint [8,8,3,3], model [8,8,1,1])", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("act_fn", "\"gelu\"", "unsupported field act_fn = gelu")]
    [InlineData("up_block_types", "[\"UpDecoderBlock2D\",\"UpDecoderBlock2D\",\"UpDecoderBlock2D\",\"AttnUpDecoderBlock2D\"]", "unsupported field up_block_types = AttnUpDecoderBlock2D")]
    [InlineData("shift_factor", "0.1159", "unsupported field shift_factor = 0.1159")]
    [InlineData("use_quant_conv", "false", "unsupported field use_quant_conv = false")]
    public void Unsupported_config_values_name_the_field(string field, string json, string message)
    {
        string dir = CopyTinyVae(_ => { });
        string configPath = Path.Combine(dir, "config.json");
        var config = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(configPath))!;
        config[field] = JsonDocument.Parse(json).RootElement;
        File.WriteAllText(configPath, JsonSerializer.Serialize(config));
        var error = Assert.Throws<ModelLoadException>(() => AutoencoderKL.Load(dir, ScalarType.Float32, CPU));
        Assert.Contains(message, error.Message);
        Assert.Contains("config.json", error.Message);
    }

    [Fact]
    public void A_folder_without_weights_says_which_file_is_missing()
    {
        string dir = TestPaths.NewTempDirectory();
        File.Copy(TestPaths.Golden("vae", "config.json"), Path.Combine(dir, "config.json"));
        var error = Assert.Throws<ModelLoadException>(() => AutoencoderKL.Load(dir, ScalarType.Float32, CPU));
        Assert.Contains("diffusion_pytorch_model.safetensors", error.Message);
    }

    /// <summary>Copies the golden tiny VAE into a temp folder, editing its state dict on the way.</summary>
    private static string CopyTinyVae(Action<Dictionary<string, Tensor>> edit)
    {
        string dir = TestPaths.NewTempDirectory();
        File.Copy(TestPaths.Golden("vae", "config.json"), Path.Combine(dir, "config.json"));
        var tensors = SafetensorsFile.Load(TestPaths.Golden("vae", "diffusion_pytorch_model.safetensors"));
        edit(tensors);
        SafetensorsFile.Save(Path.Combine(dir, "diffusion_pytorch_model.safetensors"), tensors);
        foreach (var tensor in tensors.Values) tensor.Dispose();
        return dir;
    }

    /// <summary>Records the output of the named submodules during the next forward passes.</summary>
    private static Dictionary<string, Tensor> Record(AutoencoderKL vae, params string[] names)
    {
        var recorded = new Dictionary<string, Tensor>();
        var modules = vae.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (string name in names)
        {
            var module = (nn.Module<Tensor, Tensor>)modules[name];
            module.register_forward_hook((_, _, output) =>
            {
                recorded[name] = output.detach().clone().DetachFromDisposeScope();
                return output;
            });
        }
        return recorded;
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what, double tolerance = Tolerance)
    {
        using (expected)
        {
            Assert.Equal(expected.shape, actual.shape);
            double diff = (expected - actual).abs().max().to_type(ScalarType.Float64).item<double>();
            double scale = expected.abs().max().to_type(ScalarType.Float64).item<double>();
            Assert.True(diff <= tolerance + tolerance * scale, $"{what}: max abs difference {diff} (max |x| {scale})");
        }
    }
}
