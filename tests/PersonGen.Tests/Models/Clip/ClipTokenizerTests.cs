using System.Text.Json;
using PersonGen.IO;
using PersonGen.Models.Clip;
using PersonGen.Tests.Support;

namespace PersonGen.Tests.Models.Clip;

public class ClipTokenizerTests
{
    private static readonly Lazy<ClipTokenizer> Sd2FromFolder = new(() => ClipTokenizer.FromFolder(TestPaths.Golden("tiny_sd2", "tokenizer")));
    private static readonly Lazy<ClipTokenizer> Sd2FromBpe = new(() => ClipTokenizer.FromBpeFile(BpePath, "!"));
    private static readonly Lazy<ClipTokenizer> Sd1FromBpe = new(() => ClipTokenizer.FromBpeFile(BpePath, "<|endoftext|>"));

    private static string BpePath => TestPaths.Data("clip", "bpe_simple_vocab_16e6.txt.gz");

    private static readonly Lazy<JsonElement[]> Prompts = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Golden("tokenizer", "prompts.json")));
        return [.. doc.RootElement.GetProperty("prompts").EnumerateArray().Select(p => p.Clone())];
    });

    public static TheoryData<int> PromptIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < 31; i++) data.Add(i);
        return data;
    }

    private static int[] Ints(JsonElement prompt, string name) => [.. prompt.GetProperty(name).EnumerateArray().Select(e => e.GetInt32())];

    [Theory]
    [MemberData(nameof(PromptIndices))]
    public void Every_golden_prompt_gives_the_reference_ids_for_sd2_and_sd1(int index)
    {
        var prompt = Prompts.Value[index];
        string text = prompt.GetProperty("text").GetString()!;

        Assert.Equal(prompt.GetProperty("hf_tokens").EnumerateArray().Select(e => e.GetString()!).ToArray()[1..^1],
            Sd2FromFolder.Value.Tokenize(text).ToArray());
        Assert.Equal(Ints(prompt, "ids_full"), Sd2FromFolder.Value.EncodeUnpadded(text).ToArray());
        Assert.Equal(Ints(prompt, "ids_sd2_pad0"), Sd2FromFolder.Value.Encode(text));
        Assert.Equal(Ints(prompt, "attention_mask"), Sd2FromFolder.Value.EncodeWithAttentionMask(text).AttentionMask);
        Assert.Equal(Ints(prompt, "ids_sd2_pad0"), Sd2FromBpe.Value.Encode(text));
        Assert.Equal(Ints(prompt, "ids_full_sd1_tokenizer"), Sd1FromBpe.Value.EncodeUnpadded(text).ToArray());
        Assert.Equal(Ints(prompt, "ids_sd1_pad_eot"), Sd1FromBpe.Value.Encode(text));
    }

    [Fact]
    public void The_batch_tensor_equals_the_golden_id_matrices()
    {
        var texts = Prompts.Value.Select(p => p.GetProperty("text").GetString()!).ToArray();
        using var golden = SafetensorsFile.Open(TestPaths.Golden("tokenizer", "ids.safetensors"));
        using var expectedSd2 = golden.Read("ids_sd2_pad0");
        using var expectedSd1 = golden.Read("ids_sd1_pad_eot");
        using var sd2 = Sd2FromFolder.Value.EncodeBatch(texts);
        using var sd1 = Sd1FromBpe.Value.EncodeBatch(texts);
        Assert.True(sd2.equal(expectedSd2).all().item<bool>());
        Assert.True(sd1.equal(expectedSd1).all().item<bool>());
    }

    [Fact]
    public void Special_ids_and_sizes_match_the_sd_conventions()
    {
        var sd2 = Sd2FromFolder.Value;
        Assert.Equal((49406, 49407, 0, 49408, 77), (sd2.BosId, sd2.EosId, sd2.PadId, sd2.VocabSize, sd2.MaxLength));
        Assert.Equal(49407, Sd1FromBpe.Value.PadId);
        Assert.Equal(48136, sd2.TokenId("sks</w>"));
        Assert.Null(sd2.TokenId("<V*>"));
    }

    [Fact]
    public void A_word_is_looked_up_as_the_pipelines_encode_it()
    {
        var sd2 = Sd2FromFolder.Value;
        // "dog" alone is the word-start piece; the word "dog" in a prompt is "dog</w>", which initialises new tokens.
        Assert.Equal(sd2.TokenId("dog</w>"), sd2.SingleTokenId("dog"));
        Assert.NotEqual(sd2.TokenId("dog"), sd2.SingleTokenId("dog"));
        Assert.Equal(48136, sd2.SingleTokenId("sks"));
        Assert.Null(sd2.SingleTokenId("stuffed animal"));
        var withPlaceholder = ClipTokenizer.FromBpeFile(BpePath, "!");
        int id = withPlaceholder.AddToken("<V*>");
        Assert.Equal(id, withPlaceholder.SingleTokenId("<V*>"));
    }

    [Fact]
    public void An_added_placeholder_gets_the_next_id_and_is_never_split()
    {
        var tokenizer = ClipTokenizer.FromBpeFile(BpePath, "!");
        int id = tokenizer.AddToken("<V*>");
        Assert.Equal(49408, id);
        Assert.Equal(49409, tokenizer.VocabSize);
        Assert.Equal(id, tokenizer.AddToken("<V*>"));
        Assert.Equal([49406, 320, 49408, 1929, 49407], tokenizer.EncodeUnpadded("a <V*> dog").ToArray());
        Assert.Equal([49406, 320, 49408, 1929, 49407], tokenizer.EncodeUnpadded("a<V*>dog").ToArray());
    }

    [Fact]
    public void Adding_a_piece_the_vocabulary_has_keeps_its_id_and_a_bare_word_gets_a_new_one()
    {
        var tokenizer = ClipTokenizer.FromBpeFile(BpePath, "!");
        Assert.Equal(tokenizer.TokenId("cat</w>"), tokenizer.AddToken("cat</w>"));
        Assert.Equal(49408, tokenizer.VocabSize);
        // The vocabulary holds "sks</w>", not "sks": transformers' add_tokens("sks") creates id 49408 (Custom Diffusion's modifier token).
        Assert.Equal(49408, tokenizer.AddToken("sks"));
        Assert.Equal([49406, 320, 49408, 1929, 49407], tokenizer.EncodeUnpadded("a sks dog").ToArray());
    }

    [Fact]
    public void A_tokenizer_folder_without_merges_gives_one_clear_error()
    {
        string dir = TestPaths.NewTempDirectory();
        File.Copy(TestPaths.Golden("tiny_sd2", "tokenizer", "vocab.json"), Path.Combine(dir, "vocab.json"));
        var error = Assert.Throws<ModelLoadException>(() => ClipTokenizer.FromFolder(dir));
        Assert.Contains("merges.txt", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_missing_bpe_file_gives_one_clear_error()
    {
        var error = Assert.Throws<ModelLoadException>(() => ClipTokenizer.FromBpeFile("/nonexistent/bpe.txt.gz", "!"));
        Assert.Contains("bpe_simple_vocab_16e6.txt.gz", error.Message);
    }
}
