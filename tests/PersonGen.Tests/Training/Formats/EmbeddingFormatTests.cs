using System.Collections;
using PersonGen.Diffusion;
using PersonGen.IO;
using PersonGen.Runtime;
using PersonGen.Tests.Support;
using PersonGen.Training;
using PersonGen.Training.Formats;
using PersonGen.Training.Methods;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace PersonGen.Tests.Training.Formats;

/// <summary>A1111/ComfyUI textual-inversion files (safetensors <c>emb_params</c>, <c>.pt</c> <c>string_to_param</c>), in and out.</summary>
public sealed class EmbeddingFormatTests
{
    private static string Tiny => TestPaths.Golden("tiny_sd2");

    private static readonly Lazy<long> Width = new(() =>
    {
        using var sd = StableDiffusionModel.Load(Tiny, ComputeOptions.Cpu);
        return ModuleTree.Parameters(sd.TextEncoder)[PlaceholderTokens.EmbeddingPath + ".weight"].shape[1];
    });

    private static Tensor Rows(int vectors, ulong seed) => randn([vectors, Width.Value], generator: new TorchSharp.torch.Generator(seed));

    private static string SafetensorsEmbedding(string name, Tensor rows)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), name + ".safetensors");
        SafetensorsFile.Save(path, [KeyValuePair.Create(EmbeddingFiles.ParamsKey, rows)]);
        return path;
    }

    /// <summary>The dict A1111 torch.saves: string_to_token, string_to_param {'*': value}, name, step.</summary>
    private static string PickleEmbedding(string name, object value)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), name + ".pt");
        var tree = new Hashtable
        {
            ["string_to_token"] = new Hashtable { ["*"] = 265L },
            ["string_to_param"] = new Hashtable { ["*"] = value },
            ["name"] = name,
            ["step"] = 500L,
        };
        using (var stream = File.Create(path)) PyTorchPickler.PickleStateDict(stream, tree);
        return path;
    }

    private static Tensor SampleLatents(string concept) => ConceptSampling.Latents(concept, "mytok");

    [Fact]
    public void One_vector_a1111_files_named_by_their_trigger_word_sample_the_latents_of_the_same_row_as_learned_embeds()
    {
        using var rows = Rows(1, 3);
        string learnedEmbeds = Path.Combine(TestPaths.NewTempDirectory(), "learned_embeds.safetensors");
        SafetensorsFile.Save(learnedEmbeds, [KeyValuePair.Create("mytok", rows[0])]);
        using var expected = SampleLatents(learnedEmbeds);
        using var fromSafetensors = SampleLatents(SafetensorsEmbedding("mytok", rows));
        using var fromPickle = SampleLatents(PickleEmbedding("mytok", rows));
        Assert.Equal(0.0, TensorAssert.MaxAbsDifference(fromSafetensors, expected));
        Assert.Equal(0.0, TensorAssert.MaxAbsDifference(fromPickle, expected));
    }

    [Theory]
    [InlineData(".safetensors")]
    [InlineData(".pt")]
    public void A_three_vector_embedding_expands_its_token_to_three_placeholders_in_every_prompt(string extension)
    {
        using var rows = Rows(3, 5);
        string path = extension == ".pt" ? PickleEmbedding("mytok", rows) : SafetensorsEmbedding("mytok", rows);
        using var sd = StableDiffusionModel.Load(Tiny, ComputeOptions.Cpu);
        using var checkpoint = ConceptCheckpoint.Load(path);
        Assert.Equal("mytok", checkpoint.Token);
        Assert.Equal("textual-inversion", checkpoint.Method);
        using var delta = checkpoint.ApplyTo(new ConceptModel(sd.Unet, sd.TextEncoder, new TokenizerVocabulary(sd.Tokenizer)));

        int[] ids = [.. new[] { "mytok", "mytok_1", "mytok_2" }.Select(t => sd.Tokenizer.TokenId(t)!.Value)];
        var encoded = sd.Tokenizer.EncodeUnpadded("mytok on a mytok");
        Assert.Equal(ids, encoded.Skip(1).Take(3));
        Assert.Equal(ids, encoded.Skip(encoded.Count - 4).Take(3));
        var table = ModuleTree.Parameters(sd.TextEncoder)[PlaceholderTokens.EmbeddingPath + ".weight"];
        using var index = tensor(ids.Select(i => (long)i).ToArray());
        using var loaded = table.index_select(0, index);
        Assert.Equal(0.0, TensorAssert.MaxAbsDifference(loaded, rows));
    }

    [Fact]
    public void A_pt_embedding_holding_anything_but_a_tensor_is_refused()
    {
        var text = Assert.Throws<InvalidCheckpointException>(() => ConceptCheckpoint.Load(PickleEmbedding("text", "not a tensor")));
        Assert.Contains("string_to_param", text.Problem);
        var nested = Assert.Throws<InvalidCheckpointException>(() => ConceptCheckpoint.Load(PickleEmbedding("nested", new Hashtable { ["x"] = 1L })));
        Assert.Contains("not a float tensor", nested.Problem);
        using var integers = ones([1, Width.Value], ScalarType.Int64);
        Assert.Throws<InvalidCheckpointException>(() => ConceptCheckpoint.Load(PickleEmbedding("integers", integers)));
    }

    [Theory]
    [InlineData(".safetensors")]
    [InlineData(".pt")]
    public void A_textual_inversion_concept_exports_to_a1111_and_reads_back_exactly(string extension)
    {
        using var rows = Rows(3, 7);
        string ours = Path.Combine(TestPaths.NewTempDirectory(), "concept.safetensors");
        SafetensorsFile.Save(ours, [KeyValuePair.Create("<my-dog>", rows)], new Dictionary<string, string>
        {
            [ConceptCheckpoint.MethodKey] = "textual-inversion",
            [ConceptCheckpoint.TokenKey] = "<my-dog>",
            [ConceptCheckpoint.StepKey] = "40",
        });
        string exported = Path.Combine(TestPaths.NewTempDirectory(), "my-dog" + extension);
        CliRunner.RunOk("export", "--concept", ours, "--format", "a1111", "--out", exported);
        if (extension == ".pt")
        {
            var tree = PickleCheckpoint.LoadTree(exported);
            Assert.Equal("<my-dog>", tree["name"]);
            Assert.Equal(40L, Convert.ToInt64(tree["step"]));
            PickleCheckpoint.DisposeTensors(tree);
        }
        else
        {
            using var file = SafetensorsFile.Open(exported);
            Assert.Equal([EmbeddingFiles.ParamsKey], file.ByName.Keys);
        }
        using var back = ConceptCheckpoint.Load(exported);
        Assert.Equal(extension == ".pt" ? "my-dog" : "<my-dog>", back.Token);
        Assert.Equal(0.0, TensorAssert.MaxAbsDifference(back.Tensors[back.Token!], rows));
    }

    [Fact]
    public void A_lora_does_not_export_as_an_embedding_nor_an_embedding_as_a_lora()
    {
        using var rows = Rows(1, 9);
        string embedding = SafetensorsEmbedding("mytok", rows);
        var (code, _, error) = CliRunner.Run("export", "--concept", embedding, "--format", "kohya", "--out", Path.Combine(TestPaths.NewTempDirectory(), "x.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("not a LoRA", error);
    }
}
