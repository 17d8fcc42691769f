using System.IO.Compression;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PersonGen.Diffusion.Schedulers;
using PersonGen.IO;
using PersonGen.Models.Clip;
using PersonGen.Models.Unet;
using PersonGen.Models.Vae;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.TestSupport;

/// <summary>
/// Writes a random tiny Stable Diffusion 2-style model in the full diffusers folder layout (<c>model_index.json</c>,
/// <c>unet/</c>, <c>text_encoder/</c>, <c>tokenizer/</c>, <c>vae/</c>, <c>scheduler/</c>), with configs in diffusers'
/// and transformers' own key names, so tests, benchmarks and the CLI run the real loading path in seconds.
/// The same seed and options give byte-identical files.
/// </summary>
public static class TinyModelFolder
{
    private const string DiffusersVersion = "0.30.3";
    private const string StartOfText = "<|startoftext|>";
    private const string EndOfText = "<|endoftext|>";
    private const int ByteTokens = 512; // 256 byte characters, each also with the end-of-word marker
    private const int FullVocabSize = 49408;

    // Words of typical prompts that the built-in vocabulary encodes as whole tokens (when no BPE file is given).
    private static readonly string[] BuiltInWords =
    [
        "a", "an", "the", "of", "in", "on", "with", "and", "photo", "picture", "dog", "cat", "backpack", "person",
        "sks", "snow", "beach", "city", "forest", "red", "blue", "green", "wearing", "hat", "sitting", "painting", "style",
    ];

    private static readonly JsonSerializerOptions JsonWriteOptions = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Creates the model folder at <paramref name="path"/> (which must not exist or be empty).</summary>
    /// <param name="path">The folder to write.</param>
    /// <param name="seed">Seed of every weight (each component draws from its own CPU generator).</param>
    /// <param name="options">Sizes and variants; null for the defaults.</param>
    /// <returns>The absolute folder path.</returns>
    /// <exception cref="InvalidInputException">The folder is not empty, or an option is out of range.</exception>
    public static string Create(string path, int seed, TinyModelOptions? options = null)
    {
        options ??= new TinyModelOptions();
        Validate(options);
        string root = Path.GetFullPath(path);
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
            throw new InvalidInputException($"{root}: folder is not empty; give a new or empty folder for the tiny model");
        Directory.CreateDirectory(root);

        int vocabSize = WriteTokenizer(Path.Combine(root, "tokenizer"), options);
        WriteJson(Path.Combine(root, ModelFolder.IndexFileName), ModelIndex());
        WriteJson(Path.Combine(root, "scheduler", "scheduler_config.json"), SchedulerConfig(options));

        string unetDir = Path.Combine(root, "unet");
        WriteJson(Path.Combine(unetDir, "config.json"), UnetConfigJson(options));
        using (var unet = new UNet2DConditionModel(UnetConfig.FromFile(Path.Combine(unetDir, "config.json"))))
            WriteWeights(unet, Path.Combine(unetDir, "diffusion_pytorch_model.safetensors"), seed, 0);

        string textDir = Path.Combine(root, "text_encoder");
        WriteJson(Path.Combine(textDir, "config.json"), TextEncoderConfigJson(options, vocabSize));
        using (var textEncoder = new ClipTextModel(ClipTextConfig.FromFolder(textDir)))
            WriteWeights(textEncoder, Path.Combine(textDir, "model.safetensors"), seed, 1);

        string vaeDir = Path.Combine(root, "vae");
        WriteJson(Path.Combine(vaeDir, "config.json"), VaeConfigJson(options));
        using (var vae = new AutoencoderKL(VaeConfig.Load(Path.Combine(vaeDir, "config.json"))))
            WriteWeights(vae, Path.Combine(vaeDir, "diffusion_pytorch_model.safetensors"), seed, 2);
        return root;
    }

    private static void Validate(TinyModelOptions options)
    {
        if (options.SampleSize < 1 || options.SampleSize % (1 << (options.UnetChannels.Count - 1)) != 0)
            throw new InvalidInputException(
                $"tiny model sample size {options.SampleSize} must be a positive multiple of 2^(UNet blocks − 1); change SampleSize");
        if (options.UnetChannels.Count < 2 || options.UnetChannels.Any(c => c <= 0 || c % 8 != 0 || c % options.NormGroups != 0))
            throw new InvalidInputException(
                $"tiny UNet channels [{string.Join(", ", options.UnetChannels)}] must be at least 2 multiples of 8 and of {options.NormGroups} groups");
        if (options.VaeChannels.Count < 1 || options.VaeChannels.Any(c => c <= 0 || c % options.NormGroups != 0))
            throw new InvalidInputException(
                $"tiny VAE channels [{string.Join(", ", options.VaeChannels)}] must be positive multiples of {options.NormGroups} groups");
        if (options.TextHiddenSize <= 0 || options.TextHiddenSize % 4 != 0)
            throw new InvalidInputException($"tiny text encoder width {options.TextHiddenSize} must be a positive multiple of 4 (4 heads)");
        if (options.PredictionType is not (PredictionType.Epsilon or PredictionType.VPrediction))
            throw new InvalidInputException($"tiny model prediction type {options.PredictionType}: use Epsilon or VPrediction");
        if (options.BpeFile is not null && options.VocabSize is < ByteTokens + 2 or > FullVocabSize)
            throw new InvalidInputException($"tiny model vocabulary size {options.VocabSize} must lie in {ByteTokens + 2} … {FullVocabSize}");
    }

    private static JsonObject ModelIndex() => new()
    {
        ["_class_name"] = "StableDiffusionPipeline",
        ["_diffusers_version"] = DiffusersVersion,
        ["feature_extractor"] = new JsonArray(null, null),
        ["image_encoder"] = new JsonArray(null, null),
        ["requires_safety_checker"] = false,
        ["safety_checker"] = new JsonArray(null, null),
        ["scheduler"] = new JsonArray("diffusers", "DDIMScheduler"),
        ["text_encoder"] = new JsonArray("transformers", "CLIPTextModel"),
        ["tokenizer"] = new JsonArray("transformers", "CLIPTokenizer"),
        ["unet"] = new JsonArray("diffusers", "UNet2DConditionModel"),
        ["vae"] = new JsonArray("diffusers", "AutoencoderKL"),
    };

    // Stable Diffusion 2 base's scheduler values, as DDIM.
    private static JsonObject SchedulerConfig(TinyModelOptions options) => new()
    {
        ["_class_name"] = "DDIMScheduler",
        ["_diffusers_version"] = DiffusersVersion,
        ["beta_end"] = 0.012,
        ["beta_schedule"] = "scaled_linear",
        ["beta_start"] = 0.00085,
        ["clip_sample"] = false,
        ["num_train_timesteps"] = 1000,
        ["prediction_type"] = options.PredictionType == PredictionType.VPrediction ? "v_prediction" : "epsilon",
        ["set_alpha_to_one"] = false,
        ["steps_offset"] = 1,
        ["timestep_spacing"] = "leading",
        ["trained_betas"] = null,
    };

    private static JsonObject UnetConfigJson(TinyModelOptions options)
    {
        var channels = options.UnetChannels;
        int blocks = channels.Count;
        return new JsonObject
        {
            ["_class_name"] = "UNet2DConditionModel",
            ["_diffusers_version"] = DiffusersVersion,
            ["act_fn"] = "silu",
            ["attention_head_dim"] = Ints(channels.Select(c => c / 8)), // heads (diffusers' misnomer), head dim 8
            ["block_out_channels"] = Ints(channels),
            ["center_input_sample"] = false,
            ["cross_attention_dim"] = options.TextHiddenSize,
            ["down_block_types"] = Strings(Enumerable.Range(0, blocks).Select(i => i < blocks - 1 ? "CrossAttnDownBlock2D" : "DownBlock2D")),
            ["downsample_padding"] = 1,
            ["dual_cross_attention"] = false,
            ["flip_sin_to_cos"] = true,
            ["freq_shift"] = 0,
            ["in_channels"] = 4,
            ["layers_per_block"] = 1,
            ["mid_block_scale_factor"] = 1,
            ["mid_block_type"] = "UNetMidBlock2DCrossAttn",
            ["norm_eps"] = 1e-05,
            ["norm_num_groups"] = options.NormGroups,
            ["only_cross_attention"] = false,
            ["out_channels"] = 4,
            ["sample_size"] = options.SampleSize,
            ["transformer_layers_per_block"] = 1,
            ["up_block_types"] = Strings(Enumerable.Range(0, blocks).Select(i => i == 0 ? "UpBlock2D" : "CrossAttnUpBlock2D")),
            ["upcast_attention"] = false,
            ["use_linear_projection"] = true,
        };
    }

    private static JsonObject VaeConfigJson(TinyModelOptions options)
    {
        int blocks = options.VaeChannels.Count;
        return new JsonObject
        {
            ["_class_name"] = "AutoencoderKL",
            ["_diffusers_version"] = DiffusersVersion,
            ["act_fn"] = "silu",
            ["block_out_channels"] = Ints(options.VaeChannels),
            ["down_block_types"] = Strings(Enumerable.Repeat("DownEncoderBlock2D", blocks)),
            ["force_upcast"] = true,
            ["in_channels"] = 3,
            ["latent_channels"] = 4,
            ["layers_per_block"] = 1,
            ["norm_num_groups"] = options.NormGroups,
            ["out_channels"] = 3,
            ["sample_size"] = options.SampleSize << (blocks - 1),
            ["scaling_factor"] = 0.18215,
            ["up_block_types"] = Strings(Enumerable.Repeat("UpDecoderBlock2D", blocks)),
        };
    }

    // Stable Diffusion 2's text-encoder conventions: gelu, bos 0 / eos 2 / pad 1 (pooled output at the argmax id).
    private static JsonObject TextEncoderConfigJson(TinyModelOptions options, int vocabSize) => new()
    {
        ["architectures"] = Strings(["CLIPTextModel"]),
        ["attention_dropout"] = 0.0,
        ["bos_token_id"] = 0,
        ["eos_token_id"] = 2,
        ["hidden_act"] = "gelu",
        ["hidden_size"] = options.TextHiddenSize,
        ["initializer_factor"] = 1.0,
        ["initializer_range"] = 0.02,
        ["intermediate_size"] = options.TextHiddenSize * 2,
        ["layer_norm_eps"] = 1e-05,
        ["max_position_embeddings"] = 77,
        ["model_type"] = "clip_text_model",
        ["num_attention_heads"] = 4,
        ["num_hidden_layers"] = 2,
        ["pad_token_id"] = 1,
        ["projection_dim"] = options.TextHiddenSize,
        ["torch_dtype"] = "float32",
        ["transformers_version"] = "4.45.0",
        ["vocab_size"] = vocabSize,
    };

    /// <summary>Writes the slow CLIPTokenizer files (SD 2 convention: pad token "!" = id 0); returns the vocabulary size.</summary>
    private static int WriteTokenizer(string directory, TinyModelOptions options)
    {
        var merges = options.BpeFile is null ? BuiltInMerges() : ReadBpeMerges(options.BpeFile, options.VocabSize - ByteTokens - 2);
        var vocab = new JsonObject();
        int next = 0;
        void Add(string token)
        {
            if (!vocab.ContainsKey(token)) vocab[token] = next++;
        }
        foreach (var (_, c) in ClipBytePairEncoder.ByteAlphabet) Add(c.ToString());
        foreach (var (_, c) in ClipBytePairEncoder.ByteAlphabet) Add(c + ClipBytePairEncoder.EndOfWord);
        foreach (var (left, right) in merges) Add(left + right);
        Add(StartOfText);
        Add(EndOfText);
        int bos = (int)vocab[StartOfText]!, eos = (int)vocab[EndOfText]!;

        WriteJson(Path.Combine(directory, "vocab.json"), vocab);
        File.WriteAllText(Path.Combine(directory, "merges.txt"),
            "#version: 0.2\n" + string.Concat(merges.Select(m => $"{m.Left} {m.Right}\n")));
        WriteJson(Path.Combine(directory, "tokenizer_config.json"), new JsonObject
        {
            ["added_tokens_decoder"] = new JsonObject
            {
                ["0"] = AddedToken("!", normalized: false),
                [bos.ToString(System.Globalization.CultureInfo.InvariantCulture)] = AddedToken(StartOfText, normalized: true),
                [eos.ToString(System.Globalization.CultureInfo.InvariantCulture)] = AddedToken(EndOfText, normalized: true),
            },
            ["bos_token"] = StartOfText,
            ["clean_up_tokenization_spaces"] = true,
            ["eos_token"] = EndOfText,
            ["errors"] = "replace",
            ["model_max_length"] = 77,
            ["pad_token"] = "!",
            ["tokenizer_class"] = "CLIPTokenizer",
            ["unk_token"] = EndOfText,
        });
        WriteJson(Path.Combine(directory, "special_tokens_map.json"), new JsonObject
        {
            ["bos_token"] = SpecialToken(StartOfText),
            ["eos_token"] = SpecialToken(EndOfText),
            ["pad_token"] = "!",
            ["unk_token"] = SpecialToken(EndOfText),
        });
        return next;
    }

    private static JsonObject AddedToken(string content, bool normalized) => new()
    {
        ["content"] = content,
        ["lstrip"] = false,
        ["normalized"] = normalized,
        ["rstrip"] = false,
        ["single_word"] = false,
        ["special"] = true,
    };

    private static JsonObject SpecialToken(string content) => new()
    {
        ["content"] = content,
        ["lstrip"] = false,
        ["normalized"] = true,
        ["rstrip"] = false,
        ["single_word"] = false,
    };

    /// <summary>Merges that build each built-in word left to right, so BPE encodes it as one token.</summary>
    private static List<(string Left, string Right)> BuiltInMerges()
    {
        var merges = new List<(string, string)>();
        foreach (string word in BuiltInWords)
        {
            string built = word[..1];
            for (int i = 1; i < word.Length; i++)
            {
                string next = i == word.Length - 1 ? word[i] + ClipBytePairEncoder.EndOfWord : word[i].ToString();
                if (!merges.Contains((built, next))) merges.Add((built, next));
                built += next;
            }
        }
        return merges;
    }

    /// <summary>The first <paramref name="count"/> merges of OpenAI's gzip merges file (its first line is a header).</summary>
    private static List<(string Left, string Right)> ReadBpeMerges(string path, int count)
    {
        if (!File.Exists(path))
            throw new InvalidInputException($"{path}: CLIP merges file not found; give the path of bpe_simple_vocab_16e6.txt.gz");
        try
        {
            using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var reader = new StreamReader(gzip);
            var merges = new List<(string, string)>(count);
            reader.ReadLine();
            while (merges.Count < count && reader.ReadLine() is { } line)
            {
                string[] parts = line.Split(' ');
                if (parts.Length != 2) throw new InvalidDataException($"line '{line}' is not a merge pair");
                merges.Add((parts[0], parts[1]));
            }
            return merges;
        }
        catch (InvalidDataException e)
        {
            throw new InvalidInputException($"{path}: not a gzip CLIP merges file ({e.Message}); give the original bpe_simple_vocab_16e6.txt.gz");
        }
    }

    /// <summary>
    /// Fills every tensor from a generator seeded by (seed, component): matrices N(0, 1/fan_in), norm weights
    /// 1 + N(0, 0.1²), biases N(0, 0.02²), and saves them in state-dict order.
    /// </summary>
    private static void WriteWeights(nn.Module model, string path, int seed, int component)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed * 16 + (ulong)component, CPU);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, parameter) in model.state_dict())
        {
            if (!parameter.is_floating_point())
            {
                tensors.Add(new(name, parameter));
                continue;
            }
            var noise = randn(parameter.shape, ScalarType.Float32, CPU, generator: generator);
            var value = parameter.dim() >= 2
                ? noise.mul_(1.0 / Math.Sqrt(parameter.numel() / parameter.shape[0]))
                : name.EndsWith("bias", StringComparison.Ordinal) ? noise.mul_(0.02) : noise.mul_(0.1).add_(1.0);
            tensors.Add(new(name, value));
        }
        SafetensorsFile.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    private static void WriteJson(string path, JsonNode json)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json.ToJsonString(JsonWriteOptions) + "\n");
    }

    private static JsonArray Ints(IEnumerable<int> values) => new(values.Select(v => (JsonNode?)v).ToArray());

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)v).ToArray());
}
