using System.Text.Json;
using PersonGen.IO;
using PersonGen.Models.Clip;
using PersonGen.Tests.Support;
using static TorchSharp.torch;

namespace PersonGen.Tests.Models.Clip;

public class ClipModelTests
{
    private const double Tolerance = 1e-4;

    private static double MaxAbs(Tensor a, Tensor b)
    {
        Assert.Equal(b.shape, a.shape);
        using var diff = (a.to_type(ScalarType.Float64) - b.to_type(ScalarType.Float64)).abs().max();
        return diff.item<double>();
    }

    private static void AssertClose(Tensor actual, Tensor expected, string what) =>
        Assert.True(MaxAbs(actual, expected) <= Tolerance, $"{what}: max abs diff {MaxAbs(actual, expected):G3} > {Tolerance}");

    [Fact]
    public void Text_encoder_matches_the_golden_outputs_for_pad0_pad_eos_and_masked_inputs()
    {
        using var scope = NewDisposeScope();
        using var model = ClipTextModel.Load(TestPaths.Golden("clip_text"), ScalarType.Float32, CPU);
        var io = SafetensorsFile.Load(TestPaths.Golden("clip_text", "io.safetensors"));

        var plain = model.forward(io["input_ids"], null, outputHiddenStates: true);
        AssertClose(plain.LastHiddenState, io["last_hidden_state"], "last_hidden_state");
        AssertClose(plain.PooledOutput, io["pooler_output"], "pooler_output");
        Assert.Equal(3, plain.HiddenStates.Count);
        for (int i = 0; i < 3; i++) AssertClose(plain.HiddenStates[i], io[$"hidden_states.{i}"], $"hidden_states.{i}");

        var padEos = model.forward(io["input_ids_pad_eos"]);
        AssertClose(padEos.LastHiddenState, io["last_hidden_state_pad_eos"], "last_hidden_state_pad_eos");
        AssertClose(padEos.PooledOutput, io["pooler_output_pad_eos"], "pooler_output_pad_eos");

        var masked = model.forward(io["input_ids"], io["attention_mask"]);
        AssertClose(masked.LastHiddenState, io["last_hidden_state_masked"], "last_hidden_state_masked");
        AssertClose(masked.PooledOutput, io["pooler_output_masked"], "pooler_output_masked");
        Assert.Empty(masked.HiddenStates);
    }

    [Fact]
    public void Clip_skip_one_is_the_penultimate_hidden_state_through_the_final_layer_norm()
    {
        using var scope = NewDisposeScope();
        using var model = ClipTextModel.Load(TestPaths.Golden("clip_text"), ScalarType.Float32, CPU);
        var io = SafetensorsFile.Load(TestPaths.Golden("clip_text", "io.safetensors"));
        var skipped = model.forward(io["input_ids"], null, clipSkip: 1);
        using var expected = model.text_model.final_layer_norm.call(io["hidden_states.1"]);
        AssertClose(skipped.LastHiddenState, expected, "clip skip 1");
        AssertClose(skipped.PooledOutput, io["pooler_output"], "pooled output with clip skip");
        Assert.Throws<InvalidInputException>(() => model.forward(io["input_ids"], null, clipSkip: 2));
    }

    [Fact]
    public void Text_encoder_with_projection_matches_the_golden_text_embeds()
    {
        using var scope = NewDisposeScope();
        using var model = ClipTextModelWithProjection.Load(TestPaths.Golden("clip_text_proj"), ScalarType.Float32, CPU);
        Assert.Equal(ClipActivation.QuickGelu, model.Config.HiddenAct);
        var io = SafetensorsFile.Load(TestPaths.Golden("clip_text_proj", "io.safetensors"));

        var plain = model.forward(io["input_ids"], null, outputHiddenStates: true);
        AssertClose(plain.TextEmbeds, io["text_embeds"], "text_embeds");
        AssertClose(plain.LastHiddenState, io["last_hidden_state"], "last_hidden_state");
        for (int i = 0; i < 3; i++) AssertClose(plain.HiddenStates[i], io[$"hidden_states.{i}"], $"hidden_states.{i}");
        var padEos = model.forward(io["input_ids_pad_eos"]);
        AssertClose(padEos.TextEmbeds, io["text_embeds_pad_eos"], "text_embeds_pad_eos");
        AssertClose(padEos.LastHiddenState, io["last_hidden_state_pad_eos"], "last_hidden_state_pad_eos");
        var masked = model.forward(io["input_ids"], io["attention_mask"]);
        AssertClose(masked.TextEmbeds, io["text_embeds_masked"], "text_embeds_masked");
        AssertClose(masked.LastHiddenState, io["last_hidden_state_masked"], "last_hidden_state_masked");
    }

    [Fact]
    public void Vision_encoder_with_projection_matches_the_golden_image_embeds()
    {
        using var scope = NewDisposeScope();
        using var model = ClipVisionModelWithProjection.Load(TestPaths.Golden("clip_vision_proj"), ScalarType.Float32, CPU);
        var io = SafetensorsFile.Load(TestPaths.Golden("clip_vision_proj", "io.safetensors"));
        var output = model.forward(io["pixel_values"], outputHiddenStates: true);
        AssertClose(output.ImageEmbeds, io["image_embeds"], "image_embeds");
        AssertClose(output.LastHiddenState, io["last_hidden_state"], "last_hidden_state");
        for (int i = 0; i < 3; i++) AssertClose(output.HiddenStates[i], io[$"hidden_states.{i}"], $"hidden_states.{i}");
        Assert.Throws<InvalidInputException>(() => model.forward(zeros(1, 3, 16, 16)));
    }

    [Fact]
    public void Tiny_sd2_folder_encodes_the_prompt_string_like_the_diffusers_pipeline()
    {
        using var scope = NewDisposeScope();
        var tokenizer = ClipTokenizer.FromFolder(TestPaths.Golden("tiny_sd2", "tokenizer"));
        using var model = ClipTextModel.Load(TestPaths.Golden("tiny_sd2", "text_encoder"), ScalarType.Float32, CPU);
        var io = SafetensorsFile.Load(TestPaths.Golden("tiny_sd2_run", "io.safetensors"));

        var ids = tokenizer.EncodeBatch(["a sks dog in the snow"]);
        Assert.True(ids.equal(io["ids.prompt"]).all().item<bool>());
        AssertClose(model.forward(ids).LastHiddenState, io["prompt_embeds"], "prompt_embeds");
        AssertClose(model.forward(tokenizer.EncodeBatch([""])).LastHiddenState, io["negative_prompt_embeds"], "negative_prompt_embeds");
    }

    public static TheoryData<string> TextEncoderParamLists() => new() { "sd2_text_encoder", "sd15_text_encoder" };

    [Theory]
    [MemberData(nameof(TextEncoderParamLists))]
    public void Full_size_text_encoder_has_the_golden_parameter_names_and_shapes(string name)
    {
        var config = name == "sd2_text_encoder" ? ClipTextConfig.Sd2Base : ClipTextConfig.Sd15;
        using var model = new ClipTextModel(config, META);
        AssertSameParameters(name, model.state_dict(), _ => true);
    }

    [Fact]
    public void Full_size_vit_b32_vision_tower_has_the_golden_parameter_names_and_shapes()
    {
        using var model = new ClipVisionModelWithProjection(ClipVisionConfig.VitB32, META);
        AssertSameParameters("clip_vit_b32", model.state_dict(), n => n.StartsWith("vision_model.") || n == "visual_projection.weight");
    }

    private static void AssertSameParameters(string listName, Dictionary<string, Tensor> stateDict, Func<string, bool> selected)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Golden("param_lists", listName + ".json")));
        var expected = doc.RootElement.GetProperty("tensors").EnumerateArray()
            .Select(t => (Name: t[0].GetString()!, Shape: string.Join(",", t[1].EnumerateArray().Select(d => d.GetInt64()))))
            .Where(t => selected(t.Name)).ToArray();
        var actual = stateDict.Select(kv => (Name: kv.Key, Shape: string.Join(",", kv.Value.shape))).ToArray();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void A_checkpoint_with_a_missing_and_a_misshaped_tensor_names_both_in_one_line()
    {
        string dir = TestPaths.NewTempDirectory();
        File.Copy(TestPaths.Golden("clip_text", "config.json"), Path.Combine(dir, "config.json"));
        var weights = SafetensorsFile.Load(TestPaths.Golden("clip_text", "model.safetensors"));
        weights.Remove("text_model.final_layer_norm.bias");
        weights["text_model.encoder.layers.1.mlp.fc1.weight"] = zeros(36, 32);
        weights["text_model.embeddings.position_ids"] = arange(77, ScalarType.Int64).unsqueeze(0);
        SafetensorsFile.Save(Path.Combine(dir, "model.safetensors"), weights);

        var error = Assert.Throws<ModelLoadException>(() => ClipTextModel.Load(dir, ScalarType.Float32, CPU));
        Assert.Contains("missing text_model.final_layer_norm.bias", error.Message);
        Assert.Contains("mis-shaped text_model.encoder.layers.1.mlp.fc1.weight (checkpoint [36,32], model [37,32])", error.Message);
        Assert.DoesNotContain("position_ids", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_text_encoder_folder_without_weights_or_config_gives_one_clear_error()
    {
        string dir = TestPaths.NewTempDirectory();
        Assert.Contains("config.json", Assert.Throws<ModelLoadException>(() => ClipTextModel.Load(dir, ScalarType.Float32, CPU)).Message);
        File.Copy(TestPaths.Golden("clip_text", "config.json"), Path.Combine(dir, "config.json"));
        Assert.Contains("model.safetensors", Assert.Throws<ModelLoadException>(() => ClipTextModel.Load(dir, ScalarType.Float32, CPU)).Message);
    }

    [Fact]
    public void A_config_with_an_unsupported_activation_is_refused_naming_the_field()
    {
        string dir = TestPaths.NewTempDirectory();
        File.WriteAllText(Path.Combine(dir, "config.json"),
            File.ReadAllText(TestPaths.Golden("clip_text", "config.json")).Replace("\"gelu\"", "\"relu\""));
        var error = Assert.Throws<ModelLoadException>(() => ClipTextConfig.FromFolder(dir));
        Assert.Contains("hidden_act", error.Message);
    }
}
