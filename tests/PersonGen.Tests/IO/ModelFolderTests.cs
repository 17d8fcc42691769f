using System.Text.Json;
using PersonGen.IO;
using PersonGen.Tests.Support;

namespace PersonGen.Tests.IO;

public class ModelFolderTests
{
    private static readonly string TinySd2 = TestPaths.Golden("tiny_sd2");

    [Fact]
    public void Tiny_sd2_lists_its_components_absent_entries_and_attributes()
    {
        var model = ModelFolder.Open(TinySd2);

        Assert.Equal(Path.GetFullPath(TinySd2), model.Root);
        Assert.Equal("StableDiffusionPipeline", model.ClassName);
        Assert.Equal("0.30.3", model.DiffusersVersion);
        Assert.Equal(["scheduler", "text_encoder", "tokenizer", "unet", "vae"], model.Components.Keys.Order());
        Assert.Equal(["feature_extractor", "image_encoder", "safety_checker"], model.AbsentComponents.Order());
        Assert.Equal(new ComponentInfo("unet", "diffusers", "UNet2DConditionModel", Path.Combine(model.Root, "unet")), model.Components["unet"]);
        Assert.Equal("transformers", model.Components["text_encoder"].Library);
        Assert.False(model.Attributes["requires_safety_checker"].GetBoolean());
    }

    [Fact]
    public void Tiny_sd2_weight_files_are_found_and_open()
    {
        var model = ModelFolder.Open(TinySd2);

        var unet = Assert.Single(model.WeightFiles("unet"));
        var textEncoder = Assert.Single(model.WeightFiles("text_encoder"));

        Assert.Equal("diffusion_pytorch_model.safetensors", Path.GetFileName(unet));
        Assert.Equal("model.safetensors", Path.GetFileName(textEncoder));
        using var file = SafetensorsFile.Open(unet);
        Assert.Contains("conv_in.weight", file.ByName.Keys);
    }

    [Fact]
    public void Tiny_sd2_configs_and_tokenizer_files_are_read()
    {
        var model = ModelFolder.Open(TinySd2);

        var scheduler = model.ReadConfigJson("scheduler");
        var unet = model.ReadConfigJson("unet");
        var tokenizer = model.TokenizerFiles();

        Assert.Equal("PNDMScheduler", scheduler.GetProperty("_class_name").GetString());
        Assert.EndsWith("scheduler_config.json", model.ConfigPath("scheduler"));
        Assert.Equal(JsonValueKind.Array, unet.GetProperty("block_out_channels").ValueKind);
        Assert.Equal("vocab.json", Path.GetFileName(tokenizer.Vocab));
        Assert.Equal("merges.txt", Path.GetFileName(tokenizer.Merges));
        Assert.NotNull(tokenizer.TokenizerConfig);
    }

    [Fact]
    public void A_config_binds_snake_case_fields_keeps_defaults_and_reports_unknown_fields()
    {
        var model = ModelFolder.Open(TinySd2);

        var binding = model.BindConfig<UnetConfigSample>("unet");

        Assert.Equal([8, 16, 16, 16], binding.Value.BlockOutChannels);
        Assert.Equal("silu", binding.Value.ActFn);
        Assert.Equal(123, binding.Value.NotInTheFile);
        Assert.Contains("cross_attention_dim", binding.UnknownFields.Keys);
        Assert.DoesNotContain("_class_name", binding.UnknownFields.Keys);
        var error = Assert.Throws<ModelLoadException>(() => binding.RequireNoUnknownFields());
        Assert.Contains("unsupported fields", error.Message);
        Assert.Contains("cross_attention_dim = ", error.Message);
        Assert.DoesNotContain("addition_embed_type =", error.Message); // null in the file: a feature that is off
    }

    [Fact]
    public void Config_binding_names_a_missing_required_field_and_an_ill_typed_field()
    {
        using var missing = JsonDocument.Parse("""{"act_fn": "silu"}""");
        using var illTyped = JsonDocument.Parse("""{"block_out_channels": [8, "x"], "act_fn": "silu"}""");
        using var nullString = JsonDocument.Parse("""{"block_out_channels": [8], "act_fn": null}""");

        var missingError = Assert.Throws<ModelLoadException>(() => ConfigJson.Bind<UnetConfigSample>(missing.RootElement, "c.json"));
        var typeError = Assert.Throws<ModelLoadException>(() => ConfigJson.Bind<UnetConfigSample>(illTyped.RootElement, "c.json"));
        var nullError = Assert.Throws<ModelLoadException>(() => ConfigJson.Bind<UnetConfigSample>(nullString.RootElement, "c.json"));

        Assert.Equal("c.json: missing required field block_out_channels; add it to the config file", missingError.Message);
        Assert.StartsWith("c.json: field 'block_out_channels[1]' cannot be read", typeError.Message);
        Assert.StartsWith("c.json: field 'act_fn' cannot be read", nullError.Message);
    }

    [Fact]
    public void Sharded_weights_resolve_to_their_shards_in_order()
    {
        string root = FakeModel.Create();
        string unet = Path.Combine(root, "unet");
        File.WriteAllText(Path.Combine(unet, "diffusion_pytorch_model-00002-of-00002.safetensors"), "");
        File.WriteAllText(Path.Combine(unet, "diffusion_pytorch_model-00001-of-00002.safetensors"), "");
        FakeModel.WriteIndex(unet, "diffusion_pytorch_model.safetensors.index.json",
            ("b.weight", "diffusion_pytorch_model-00002-of-00002.safetensors"),
            ("a.weight", "diffusion_pytorch_model-00001-of-00002.safetensors"),
            ("a.bias", "diffusion_pytorch_model-00001-of-00002.safetensors"));

        var files = ModelFolder.Open(root).WeightFiles("unet");

        Assert.Equal(["diffusion_pytorch_model-00001-of-00002.safetensors", "diffusion_pytorch_model-00002-of-00002.safetensors"],
            files.Select(Path.GetFileName));
    }

    [Fact]
    public void Safetensors_are_preferred_over_bin_and_bin_is_the_fallback()
    {
        string root = FakeModel.Create();
        File.WriteAllText(Path.Combine(root, "unet", "diffusion_pytorch_model.bin"), "");
        File.WriteAllText(Path.Combine(root, "text_encoder", "pytorch_model.bin"), "");
        File.WriteAllText(Path.Combine(root, "text_encoder", "model.safetensors"), "");
        var model = ModelFolder.Open(root);

        Assert.Equal("diffusion_pytorch_model.bin", Path.GetFileName(Assert.Single(model.WeightFiles("unet"))));
        Assert.Equal("model.safetensors", Path.GetFileName(Assert.Single(model.WeightFiles("text_encoder"))));
    }

    [Fact]
    public void A_variant_selects_its_own_weight_files()
    {
        string root = FakeModel.Create();
        string unet = Path.Combine(root, "unet");
        File.WriteAllText(Path.Combine(unet, "diffusion_pytorch_model.safetensors"), "");
        File.WriteAllText(Path.Combine(unet, "diffusion_pytorch_model.fp16-00001-of-00001.safetensors"), "");
        FakeModel.WriteIndex(unet, "diffusion_pytorch_model.safetensors.index.fp16.json",
            ("a.weight", "diffusion_pytorch_model.fp16-00001-of-00001.safetensors"));
        var model = ModelFolder.Open(root);

        Assert.Equal("diffusion_pytorch_model.fp16-00001-of-00001.safetensors", Path.GetFileName(Assert.Single(model.WeightFiles("unet", "fp16"))));
        Assert.Equal("diffusion_pytorch_model.safetensors", Path.GetFileName(Assert.Single(model.WeightFiles("unet"))));
    }

    [Fact]
    public void A_folder_without_model_index_is_refused()
    {
        string root = TestPaths.NewTempDirectory();

        var error = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(root));

        Assert.Contains("model_index.json is missing", error.Message);
        Assert.Contains(root, error.Message);
    }

    [Fact]
    public void A_missing_folder_and_a_file_are_refused()
    {
        string root = TestPaths.NewTempDirectory();
        string file = Path.Combine(root, "model.safetensors");
        File.WriteAllText(file, "");

        var missing = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(Path.Combine(root, "nope")));
        var notFolder = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(file));

        Assert.Contains("model folder not found", missing.Message);
        Assert.Contains("is a file, not a model folder", notFolder.Message);
    }

    [Fact]
    public void A_missing_component_folder_names_the_component_and_the_model()
    {
        string root = FakeModel.Create();
        Directory.Delete(Path.Combine(root, "vae"), recursive: true);
        var model = ModelFolder.Open(root);

        var error = Assert.Throws<ModelLoadException>(() => model.WeightFiles("vae"));
        var unlisted = Assert.Throws<ModelLoadException>(() => model.ComponentDirectory("controlnet"));
        var nullEntry = Assert.Throws<ModelLoadException>(() => model.ComponentDirectory("safety_checker"));

        Assert.Equal($"{root}: component folder 'vae' is missing (model_index.json lists diffusers/AutoencoderKL); re-download the model or fix model_index.json", error.Message);
        Assert.Contains("'controlnet' is not listed in model_index.json", unlisted.Message);
        Assert.Contains("'safety_checker' is [null, null] in model_index.json", nullEntry.Message);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../outside")]
    [InlineData("/etc")]
    [InlineData("unet/../../x")]
    [InlineData("sub\\dir")]
    [InlineData("")]
    public void A_component_name_that_escapes_the_folder_is_refused(string name)
    {
        string root = FakeModel.Create();
        File.WriteAllText(Path.Combine(root, ModelFolder.IndexFileName),
            JsonSerializer.Serialize(new Dictionary<string, object> { ["_class_name"] = "StableDiffusionPipeline", [name] = new[] { "diffusers", "UNet2DConditionModel" } }));

        var error = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(root));

        Assert.Contains($"component name '{name}' is not a plain folder name inside the model folder", error.Message);
    }

    [Fact]
    public void Broken_json_is_reported_with_the_file_and_line()
    {
        string root = FakeModel.Create();
        string index = Path.Combine(root, ModelFolder.IndexFileName);
        File.WriteAllText(index, "{\n  \"_class_name\": \"StableDiffusionPipeline\",\n  \"unet\": [\"diffusers\" \"UNet\"]\n}");
        File.WriteAllText(Path.Combine(root, "scheduler", "scheduler_config.json"), "{\"num_train_timesteps\": ");

        var indexError = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(root));
        FakeModel.WriteIndexFile(root);
        var configError = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(root).ReadConfigJson("scheduler"));

        Assert.StartsWith($"{index}: not valid JSON (line 3", indexError.Message);
        Assert.Contains("scheduler_config.json: not valid JSON", configError.Message);
    }

    [Fact]
    public void A_malformed_component_entry_is_refused()
    {
        string root = FakeModel.Create();
        File.WriteAllText(Path.Combine(root, ModelFolder.IndexFileName), """{"_class_name": "P", "unet": ["diffusers", null]}""");

        var error = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(root));

        Assert.Contains("component 'unet' must be [\"library\", \"ClassName\"] or [null, null]", error.Message);
    }

    [Fact]
    public void A_sharded_index_pointing_to_a_missing_shard_is_refused()
    {
        string root = FakeModel.Create();
        string unet = Path.Combine(root, "unet");
        File.WriteAllText(Path.Combine(unet, "diffusion_pytorch_model-00001-of-00002.safetensors"), "");
        FakeModel.WriteIndex(unet, "diffusion_pytorch_model.safetensors.index.json",
            ("a.weight", "diffusion_pytorch_model-00001-of-00002.safetensors"),
            ("b.weight", "diffusion_pytorch_model-00002-of-00002.safetensors"));

        var error = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(root).WeightFiles("unet"));

        Assert.Contains("shard diffusion_pytorch_model-00002-of-00002.safetensors listed in weight_map is missing", error.Message);
    }

    [Fact]
    public void A_sharded_index_naming_a_file_outside_the_folder_is_refused()
    {
        string root = FakeModel.Create();
        FakeModel.WriteIndex(Path.Combine(root, "unet"), "diffusion_pytorch_model.safetensors.index.json", ("a.weight", "../vae/x.safetensors"));

        var error = Assert.Throws<ModelLoadException>(() => ModelFolder.Open(root).WeightFiles("unet"));

        Assert.Contains("weight_map entry 'a.weight' must name a file in the same folder", error.Message);
    }

    [Fact]
    public void A_component_without_weights_lists_the_names_looked_for()
    {
        var model = ModelFolder.Open(FakeModel.Create());

        var error = Assert.Throws<ModelLoadException>(() => model.WeightFiles("unet"));

        Assert.Contains("no weight file (looked for diffusion_pytorch_model.safetensors, model.safetensors,", error.Message);
    }

    /// <summary>A config record shaped like those the model engineers write.</summary>
    private sealed record UnetConfigSample
    {
        public required int[] BlockOutChannels { get; init; }
        public string ActFn { get; init; } = "gelu";
        public int NotInTheFile { get; init; } = 123;
    }
}
