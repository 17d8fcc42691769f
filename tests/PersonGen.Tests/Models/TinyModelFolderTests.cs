using PersonGen.Diffusion.Schedulers;
using PersonGen.IO;
using PersonGen.Models.Clip;
using PersonGen.Models.Unet;
using PersonGen.Models.Vae;
using PersonGen.Tests.Support;
using PersonGen.TestSupport;
using static TorchSharp.torch;

namespace PersonGen.Tests.Models;

public class TinyModelFolderTests
{
    [Fact]
    public void A_written_folder_loads_through_model_folder_and_every_component_loader_strictly()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var model = ModelFolder.Open(TinyModelFolder.Create(TestPaths.NewTempDirectory(), seed: 7));

        Assert.Equal("StableDiffusionPipeline", model.ClassName);
        Assert.Equal(["scheduler", "text_encoder", "tokenizer", "unet", "vae"], model.Components.Keys.Order());
        Assert.Equal("DDIMScheduler", model.Components["scheduler"].ClassName);
        var scheduler = DdimConfig.Load(model.ConfigPath("scheduler"));
        Assert.Equal(DdimConfig.Sd2Base with { TimestepSpacing = TimestepSpacing.Leading }, scheduler);

        var tokenizer = ClipTokenizer.FromFolder(model.ComponentDirectory("tokenizer"));
        using var textEncoder = ClipTextModel.Load(model.ComponentDirectory("text_encoder"), ScalarType.Float32, CPU);
        using var unet = UNet2DConditionModel.Load(model.ComponentDirectory("unet"), ScalarType.Float32, CPU);
        using var vae = AutoencoderKL.Load(model.ComponentDirectory("vae"), ScalarType.Float32, CPU);

        using var ids = tokenizer.EncodeBatch(["a photo of a sks dog in the snow"]);
        Assert.True(ids.max().item<long>() < textEncoder.Config.VocabSize);
        var text = textEncoder.call(ids).LastHiddenState;
        var noise = unet.call(randn(1, 4, 16, 16), tensor(981L), text);
        var image = vae.Decode(noise);
        Assert.Equal(new long[] { 1, 3, 128, 128 }, image.shape);
        Assert.True(image.isfinite().all().item<bool>());
        Assert.True(noise.std().item<float>() > 0);
    }

    [Fact]
    public void A_seed_gives_identical_files_and_another_seed_other_weights()
    {
        string first = TinyModelFolder.Create(TestPaths.NewTempDirectory(), seed: 3);
        string second = TinyModelFolder.Create(TestPaths.NewTempDirectory(), seed: 3);
        string other = TinyModelFolder.Create(TestPaths.NewTempDirectory(), seed: 4);

        var files = Directory.EnumerateFiles(first, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(first, f)).Order().ToList();
        Assert.Equal(12, files.Count);
        Assert.Equal(files, Directory.EnumerateFiles(second, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(second, f)).Order());
        foreach (string file in files)
            Assert.True(File.ReadAllBytes(Path.Combine(first, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(second, file))), file);
        string unetWeights = Path.Combine("unet", "diffusion_pytorch_model.safetensors");
        Assert.False(File.ReadAllBytes(Path.Combine(first, unetWeights)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(other, unetWeights))));
    }

    [Fact]
    public void The_tokenizer_derived_from_the_openai_bpe_file_gives_the_real_sd2_ids()
    {
        string root = TinyModelFolder.Create(TestPaths.NewTempDirectory(), seed: 1, new TinyModelOptions
        {
            BpeFile = TestPaths.Data("clip", "bpe_simple_vocab_16e6.txt.gz"),
            PredictionType = PredictionType.VPrediction,
        });
        var model = ModelFolder.Open(root);
        var tokenizer = ClipTokenizer.FromFolder(model.ComponentDirectory("tokenizer"));
        Assert.Equal([49406, 320, 48136, 1929, 530, 518, 2583, 49407, 0], tokenizer.Encode("a sks dog in the snow")[..9]);
        Assert.Equal(49408, ClipTextConfig.FromFolder(model.ComponentDirectory("text_encoder")).VocabSize);
        Assert.Equal(PredictionType.VPrediction, DdimConfig.Load(model.ConfigPath("scheduler")).PredictionType);
    }

    [Fact]
    public void The_built_in_vocabulary_encodes_common_prompt_words_as_one_token_each()
    {
        var model = ModelFolder.Open(TinyModelFolder.Create(TestPaths.NewTempDirectory(), seed: 1));
        var tokenizer = ClipTokenizer.FromFolder(model.ComponentDirectory("tokenizer"));
        Assert.Equal(["a</w>", "photo</w>", "of</w>", "sks</w>", "dog</w>"], tokenizer.Tokenize("a photo of sks dog"));
        Assert.Equal(0, tokenizer.PadId);
        Assert.Equal(tokenizer.VocabSize, ClipTextConfig.FromFolder(model.ComponentDirectory("text_encoder")).VocabSize);
    }

    [Fact]
    public void Sizes_follow_the_options_and_bad_options_are_refused()
    {
        var options = new TinyModelOptions { SampleSize = 8, UnetChannels = [16, 32], VaeChannels = [8, 16], TextHiddenSize = 16 };
        var model = ModelFolder.Open(TinyModelFolder.Create(TestPaths.NewTempDirectory(), seed: 2, options));
        var unet = UnetConfig.FromFile(model.ConfigPath("unet"));
        Assert.Equal([16, 32], unet.BlockOutChannels);
        Assert.Equal(16, unet.CrossAttentionDim[0]);
        Assert.Equal(16, VaeConfig.Load(model.ConfigPath("vae")).SampleSize);

        Assert.Throws<InvalidInputException>(() =>
            TinyModelFolder.Create(TestPaths.NewTempDirectory(), 0, new TinyModelOptions { UnetChannels = [12, 24] }));
        string used = TestPaths.NewTempDirectory();
        File.WriteAllText(Path.Combine(used, "x.txt"), "");
        Assert.Contains("not empty", Assert.Throws<InvalidInputException>(() => TinyModelFolder.Create(used, 0)).Message);
    }

    [Fact]
    public void Sharded_weights_load_like_the_single_file()
    {
        using var _ = no_grad();
        string root = TinyModelFolder.Create(TestPaths.NewTempDirectory(), seed: 5);
        string unetDir = Path.Combine(root, "unet");
        string single = Path.Combine(unetDir, "diffusion_pytorch_model.safetensors");
        var tensors = SafetensorsFile.Load(single);
        var names = tensors.Keys.ToList();
        var shards = new[] { names.Take(names.Count / 2).ToList(), names.Skip(names.Count / 2).ToList() };
        var weightMap = new Dictionary<string, string>();
        for (int i = 0; i < 2; i++)
        {
            string file = $"diffusion_pytorch_model-0000{i + 1}-of-00002.safetensors";
            SafetensorsFile.Save(Path.Combine(unetDir, file), shards[i].Select(n => new KeyValuePair<string, Tensor>(n, tensors[n])));
            foreach (string name in shards[i]) weightMap[name] = file;
        }
        File.WriteAllText(single + ".index.json", System.Text.Json.JsonSerializer.Serialize(new { metadata = new { }, weight_map = weightMap }));
        using var fromSingle = UNet2DConditionModel.Load(unetDir, ScalarType.Float32, CPU);
        File.Delete(single);
        using var fromShards = UNet2DConditionModel.Load(unetDir, ScalarType.Float32, CPU);

        var expected = fromSingle.state_dict();
        foreach (var (name, value) in fromShards.state_dict())
            Assert.True(value.equal(expected[name]).all().item<bool>(), name);
        foreach (var tensor in tensors.Values) tensor.Dispose();
    }
}
