using PersonGen.Diffusion;
using PersonGen.IO;
using PersonGen.Runtime;
using PersonGen.Tests.Support;
using PersonGen.Training;
using PersonGen.Training.Formats;
using PersonGen.Training.Methods;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Tests.Training.Formats;

/// <summary>LoRA files of other tools: kohya/A1111 and diffusers attention processors, in and out, against our PEFT layout.</summary>
public sealed class LoraFormatTests
{
    private const int Rank = 4;
    private static string Tiny => TestPaths.Golden("tiny_sd2");

    /// <summary>A PEFT LoRA on tiny_sd2 (UNet and text encoder) with random non-zero up weights, alpha = rank.</summary>
    private static readonly Lazy<string> Peft = new(() =>
    {
        using var sd = StableDiffusionModel.Load(Tiny, ComputeOptions.Cpu);
        using var delta = new LoraDelta(new ConceptModel(sd.Unet, sd.TextEncoder), Rank, seed: 1);
        var generator = new TorchSharp.torch.Generator(2);
        using (no_grad())
            foreach (var (key, parameter) in delta.Trainables.Where(kv => kv.Key.EndsWith(".lora_B.weight", StringComparison.Ordinal)))
                parameter.copy_(randn(parameter.shape, generator: generator) * 0.05);
        using var checkpoint = ConceptCheckpoint.FromDelta(delta, baseModel: Tiny, token: "sks", className: "dog", step: 3);
        string path = Path.Combine(TestPaths.NewTempDirectory(), "peft.safetensors");
        checkpoint.Save(path);
        return path;
    });

    private static string Export(string concept, string format, string name, params string[] extra)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), name);
        CliRunner.RunOk(["export", "--concept", concept, "--format", format, "--out", path, .. extra]);
        return path;
    }

    private static Tensor SampleLatents(string concept) => ConceptSampling.Latents(concept, "sks");

    [Fact]
    public void A_kohya_file_converted_from_a_peft_lora_samples_the_same_latents_and_its_multiplier_is_the_peft_scale()
    {
        string kohya = Export(Peft.Value, "kohya", "kohya.safetensors");
        using (var file = SafetensorsFile.Open(kohya))
        {
            Assert.Contains("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight", file.ByName.Keys);
            Assert.Contains("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_out_0.lora_up.weight", file.ByName.Keys);
            Assert.Contains("lora_te_text_model_encoder_layers_0_self_attn_q_proj.alpha", file.ByName.Keys);
            Assert.DoesNotContain(file.ByName.Keys, k => k.Contains("lora_A", StringComparison.Ordinal));
            Assert.Equal("4", file.Metadata["ss_network_dim"]);
            Assert.Equal("4", file.Metadata["ss_network_alpha"]);
            Assert.Equal("sks", file.Metadata["modelspec.trigger_phrase"]);
            Assert.Equal("tiny_sd2", file.Metadata["ss_sd_model_name"]);
            using var alpha = file.Read("lora_te_text_model_encoder_layers_0_self_attn_q_proj.alpha");
            Assert.Equal(0, alpha.dim());
            Assert.Equal(4f, alpha.item<float>());
        }
        using var fromPeft = SampleLatents(Peft.Value);
        using var fromKohya = SampleLatents(kohya);
        TensorAssert.Close(fromPeft, fromKohya, 1e-5, "kohya vs PEFT latents");

        string halfPeft = Path.Combine(TestPaths.NewTempDirectory(), "half.safetensors");
        using (var file = SafetensorsFile.Open(Peft.Value))
        {
            var metadata = new Dictionary<string, string>(file.Metadata) { ["lora_alpha"] = "2" };
            SafetensorsFile.Save(halfPeft, file.ReadAll(), metadata);
        }
        using var halfFromPeft = SampleLatents(halfPeft);
        using var halfFromKohya = SampleLatents(kohya + ":0.5");
        TensorAssert.Close(halfFromPeft, halfFromKohya, 1e-5, "kohya:0.5 vs PEFT at scale 0.5");
        Assert.True(TensorAssert.MaxAbsDifference(halfFromKohya, fromKohya) > 1e-4, "the multiplier changes nothing");
    }

    [Theory]
    [InlineData("kohya")]
    [InlineData("peft")]
    [InlineData("diffusers")]
    public void Export_then_import_gives_back_the_exact_lora(string format)
    {
        string exported = Export(Peft.Value, format, format + ".safetensors");
        string back = Export(exported, "peft", "back.safetensors", "--model", Tiny);
        var original = SafetensorsFile.Load(Peft.Value);
        var roundTripped = SafetensorsFile.Load(back);
        Assert.Equal(original.Keys.Order(), roundTripped.Keys.Order());
        foreach (var (key, value) in original) Assert.Equal(0.0, TensorAssert.MaxAbsDifference(roundTripped[key], value));
        using var file = SafetensorsFile.Open(back);
        Assert.Equal("4", file.Metadata["lora_alpha"]);
        if (format == "diffusers")
        {
            using var exportedFile = SafetensorsFile.Open(exported);
            Assert.Contains("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.up.weight", exportedFile.ByName.Keys);
            Assert.Contains("text_encoder.text_model.encoder.layers.0.self_attn.to_q_lora.down.weight", exportedFile.ByName.Keys);
        }
    }

    [Fact]
    public void A_kohya_alpha_and_multiplier_round_trip_through_kohya_and_peft()
    {
        string kohya = Export(Peft.Value + ":0.5", "kohya", "half.safetensors");
        using (var file = SafetensorsFile.Open(kohya)) Assert.Equal("2", file.Metadata["ss_network_alpha"]);
        string peft = Export(kohya, "peft", "half-peft.safetensors", "--model", Tiny);
        string again = Export(peft, "kohya", "again.safetensors");
        var first = SafetensorsFile.Load(kohya);
        var second = SafetensorsFile.Load(again);
        Assert.Equal(first.Keys.Order(), second.Keys.Order());
        foreach (var (key, value) in first) Assert.Equal(0.0, TensorAssert.MaxAbsDifference(second[key], value));
    }

    [Fact]
    public void A_locon_3x3_conv_pair_and_a_linear_pair_with_their_own_alphas_change_exactly_their_weights()
    {
        using var sd = StableDiffusionModel.Load(Tiny, ComputeOptions.Cpu);
        var unet = ModuleTree.Parameters(sd.Unet);
        var conv = unet["down_blocks.0.resnets.0.conv1.weight"];
        var ff = unet["down_blocks.0.attentions.0.transformer_blocks.0.ff.net.2.weight"];
        Assert.Equal(4, conv.dim());
        var generator = new TorchSharp.torch.Generator(4);
        var tensors = new Dictionary<string, Tensor>
        {
            ["lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight"] = randn([2, conv.shape[1], 3, 3], generator: generator),
            ["lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight"] = randn([conv.shape[0], 2, 1, 1], generator: generator),
            ["lora_unet_down_blocks_0_resnets_0_conv1.alpha"] = tensor(1f),
            ["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2.lora_down.weight"] = randn([3, ff.shape[1]], generator: generator),
            ["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2.lora_up.weight"] = randn([ff.shape[0], 3], generator: generator),
        };
        string path = Path.Combine(TestPaths.NewTempDirectory(), "locon.safetensors");
        SafetensorsFile.Save(path, tensors);
        using var expectedConv = conv.detach() + 0.5 * 0.8 * tensors["lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight"].flatten(1)
            .matmul(tensors["lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight"].flatten(1)).reshape(conv.shape);
        using var expectedFf = ff.detach() + 0.8 * tensors["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2.lora_up.weight"]
            .matmul(tensors["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2.lora_down.weight"]);
        using var unchanged = unet["down_blocks.0.resnets.0.conv2.weight"].detach().clone();

        using var checkpoint = ConceptCheckpoint.Load(path + ":0.8");
        Assert.Equal("lora", checkpoint.Method);
        using var delta = checkpoint.ApplyTo(new ConceptModel(sd.Unet, sd.TextEncoder));
        TensorAssert.Close(expectedConv, conv, 1e-6, "conv1 with LoCon (alpha 1 / rank 2 × 0.8)");
        TensorAssert.Close(expectedFf, ff, 1e-6, "ff.net.2 without alpha (= rank) × 0.8");
        Assert.Equal(0.0, TensorAssert.MaxAbsDifference(unet["down_blocks.0.resnets.0.conv2.weight"], unchanged));
    }

    [Fact]
    public void Kohya_layers_with_their_own_ranks_and_alphas_keep_them_through_a_peft_export()
    {
        var generator = new TorchSharp.torch.Generator(6);
        string q = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q", v = "lora_te_text_model_encoder_layers_0_self_attn_v_proj";
        string path = Path.Combine(TestPaths.NewTempDirectory(), "mixed.safetensors");
        using (var sd = StableDiffusionModel.Load(Tiny, ComputeOptions.Cpu))
        {
            var shapeQ = ModuleTree.Parameters(sd.Unet)["down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"].shape;
            var shapeV = ModuleTree.Parameters(sd.TextEncoder)["text_model.encoder.layers.0.self_attn.v_proj.weight"].shape;
            SafetensorsFile.Save(path, new Dictionary<string, Tensor>
            {
                [$"{q}.lora_down.weight"] = randn([2, shapeQ[1]], generator: generator),
                [$"{q}.lora_up.weight"] = randn([shapeQ[0], 2], generator: generator),
                [$"{q}.alpha"] = tensor(1f),
                [$"{v}.lora_down.weight"] = randn([3, shapeV[1]], generator: generator),
                [$"{v}.lora_up.weight"] = randn([shapeV[0], 3], generator: generator),
                [$"{v}.alpha"] = tensor(6f),
            });
        }
        string peft = Export(path, "peft", "mixed-peft.safetensors", "--model", Tiny);
        using (var file = SafetensorsFile.Open(peft))
        {
            Assert.Equal("1", file.Metadata["lora_alpha.unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q"]);
            Assert.Equal("6", file.Metadata["lora_alpha.text_encoder.text_model.encoder.layers.0.self_attn.v_proj"]);
        }
        using var kohyaModel = StableDiffusionModel.Load(Tiny, ComputeOptions.Cpu);
        using var peftModel = StableDiffusionModel.Load(Tiny, ComputeOptions.Cpu);
        Dictionary<string, Tensor> Applied(StableDiffusionModel sd, string concept)
        {
            using var checkpoint = ConceptCheckpoint.Load(concept);
            checkpoint.ApplyTo(new ConceptModel(sd.Unet, sd.TextEncoder));
            return ModuleTree.Parameters(sd.Unet).Concat(ModuleTree.Parameters(sd.TextEncoder)).ToDictionary(kv => kv.Key, kv => (Tensor)kv.Value);
        }
        var fromKohya = Applied(kohyaModel, path);
        var fromPeft = Applied(peftModel, peft);
        foreach (var (name, value) in fromKohya) Assert.Equal(0.0, TensorAssert.MaxAbsDifference(fromPeft[name], value));
    }

    [Fact]
    public void Kohya_keys_that_match_no_module_fail_in_one_line_with_their_count_and_the_first_few()
    {
        using var sd = StableDiffusionModel.Load(Tiny, ComputeOptions.Cpu);
        using var before = ModuleTree.Parameters(sd.Unet)["down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"].detach().clone();
        long dim = before.shape[1];
        var tensors = new Dictionary<string, Tensor>
        {
            ["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight"] = ones(2, dim),
            ["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_up.weight"] = ones(before.shape[0], 2),
            ["lora_unet_input_blocks_1_1_proj_in.lora_down.weight"] = ones(2, dim),
            ["lora_unet_input_blocks_1_1_proj_in.lora_up.weight"] = ones(dim, 2),
            ["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k.hada_w1_a"] = ones(2, 2),
            ["lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight"] = ones(2, 2),
        };
        string path = Path.Combine(TestPaths.NewTempDirectory(), "foreign.safetensors");
        SafetensorsFile.Save(path, tensors);
        using var checkpoint = ConceptCheckpoint.Load(path);
        var error = Assert.Throws<ModelLoadException>(() => checkpoint.ApplyTo(new ConceptModel(sd.Unet, sd.TextEncoder)));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("4 of 6 LoRA keys match no module", error.Message);
        Assert.Contains("lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", error.Message);
        Assert.Contains("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k.hada_w1_a", error.Message);
        Assert.Equal(0.0, TensorAssert.MaxAbsDifference(ModuleTree.Parameters(sd.Unet)["down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"], before));
    }

    [Fact]
    public void A_kohya_name_two_modules_share_is_an_error_not_a_guess()
    {
        var root = Node(("a_b", Node(("c", Linear(2, 2)))), ("a", Node(("b_c", Linear(2, 2)))), ("d", Linear(2, 2)));
        var names = new KohyaNames(new ConceptModel(root));
        Assert.Equal((ConceptModel.UnetComponent, "d"), names.Resolve("lora_unet_d"));
        Assert.Null(names.Resolve("lora_unet_e"));
        var error = Assert.Throws<ModelLoadException>(() => names.Resolve("lora_unet_a_b_c"));
        Assert.Contains("unet.a_b.c", error.Message);
        Assert.Contains("unet.a.b_c", error.Message);
    }

    private sealed class Container() : Module("Container");

    private static Module Node(params (string Name, Module Child)[] children)
    {
        var node = new Container();
        foreach (var (name, child) in children) node.register_module(name, child);
        return node;
    }

    [Fact]
    public void A_multiplier_on_a_concept_that_is_not_a_lora_is_refused()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "<tok>.safetensors");
        using var sd = StableDiffusionModel.Load(Tiny, ComputeOptions.Cpu);
        SafetensorsFile.Save(path, [KeyValuePair.Create("<tok>", zeros(1, ModuleTree.Parameters(sd.TextEncoder)["text_model.embeddings.token_embedding.weight"].shape[1]))]);
        using var checkpoint = ConceptCheckpoint.Load(path + ":0.5");
        var error = Assert.Throws<InvalidInputException>(() => checkpoint.ApplyTo(new ConceptModel(sd.Unet, sd.TextEncoder, new TokenizerVocabulary(sd.Tokenizer))));
        Assert.Contains("LoRA concepts only", error.Message);
    }
}
