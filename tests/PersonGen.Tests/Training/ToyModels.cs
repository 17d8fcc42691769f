using PersonGen.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Tests.Training;

/// <summary>Cross-attention with diffusers names (to_q/to_k/to_v/to_out.0).</summary>
public sealed class ToyAttention : Module<Tensor, Tensor, Tensor>
{
    public Linear to_q, to_k, to_v;
    public ModuleList<Module<Tensor, Tensor>> to_out;

    public ToyAttention(int dim, int contextDim) : base("ToyAttention")
    {
        to_q = Linear(dim, dim, hasBias: false);
        to_k = Linear(contextDim, dim, hasBias: false);
        to_v = Linear(contextDim, dim, hasBias: false);
        to_out = new ModuleList<Module<Tensor, Tensor>>(Linear(dim, dim));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor context)
    {
        using var scope = NewDisposeScope();
        var attended = ToyWorld.Attend(to_q.forward(x), to_k.forward(context), to_v.forward(context));
        return to_out[0].forward(attended).MoveToOuterDisposeScope();
    }
}

/// <summary>A UNet-shaped toy: conv_in, GroupNorm, a cross-attention block at <c>mid_block.attn2</c>, conv_out.</summary>
public sealed class ToyUnet : Module<Tensor, Tensor, Tensor>
{
    public Conv2d conv_in, conv_out;
    public GroupNorm conv_norm_out;
    public ToyMidBlock mid_block;

    public ToyUnet(int channels = 8, int contextDim = 8) : base("ToyUnet")
    {
        conv_in = Conv2d(4, channels, 3, padding: 1);
        conv_norm_out = PersonGen.Models.GroupNorms.Create(2, channels, 1e-5, null, null);
        mid_block = new ToyMidBlock(channels, contextDim);
        conv_out = Conv2d(channels, 4, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor latents, Tensor context)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.forward(latents);
        long b = h.shape[0], c = h.shape[1], height = h.shape[2], width = h.shape[3];
        var tokens = h.flatten(2).transpose(1, 2);
        tokens = tokens + mid_block.forward(tokens, context);
        h = tokens.transpose(1, 2).reshape(b, c, height, width);
        return conv_out.forward(functional.silu(conv_norm_out.forward(h))).MoveToOuterDisposeScope();
    }
}

public sealed class ToyMidBlock : Module<Tensor, Tensor, Tensor>
{
    public LayerNorm norm2;
    public ToyAttention attn2;

    public ToyMidBlock(int channels, int contextDim) : base("ToyMidBlock")
    {
        norm2 = LayerNorm(channels);
        attn2 = new ToyAttention(channels, contextDim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor context) => attn2.forward(norm2.forward(x), context);
}

/// <summary>A CLIP-text-shaped toy with transformers names (<c>text_model.embeddings.token_embedding</c>, …).</summary>
public sealed class ToyTextEncoder : Module<Tensor, Tensor>
{
    public ToyTextModel text_model;

    public ToyTextEncoder(int vocabulary, int length = 6, int dim = 8) : base("ToyTextEncoder")
    {
        text_model = new ToyTextModel(vocabulary, length, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids) => text_model.forward(ids);
}

public sealed class ToyTextModel : Module<Tensor, Tensor>
{
    public ToyEmbeddings embeddings;
    public ToyEncoder encoder;
    public LayerNorm final_layer_norm;

    public ToyTextModel(int vocabulary, int length, int dim) : base("ToyTextModel")
    {
        embeddings = new ToyEmbeddings(vocabulary, length, dim);
        encoder = new ToyEncoder(dim);
        final_layer_norm = LayerNorm(dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var h = embeddings.forward(ids);
        foreach (var layer in encoder.layers) h = h + layer.forward(h);
        return final_layer_norm.forward(h).MoveToOuterDisposeScope();
    }
}

public sealed class ToyEmbeddings : Module<Tensor, Tensor>
{
    public Embedding token_embedding, position_embedding;

    public ToyEmbeddings(int vocabulary, int length, int dim) : base("ToyEmbeddings")
    {
        token_embedding = Embedding(vocabulary, dim);
        position_embedding = Embedding(length, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        using var positions = arange(ids.shape[1]);
        return token_embedding.forward(ids) + position_embedding.forward(positions);
    }
}

public sealed class ToyEncoder : Module
{
    public ModuleList<ToyEncoderLayer> layers;

    public ToyEncoder(int dim) : base("ToyEncoder")
    {
        layers = new ModuleList<ToyEncoderLayer>(new ToyEncoderLayer(dim));
        RegisterComponents();
    }
}

public sealed class ToyEncoderLayer : Module<Tensor, Tensor>
{
    public LayerNorm layer_norm1;
    public ToySelfAttention self_attn;

    public ToyEncoderLayer(int dim) : base("ToyEncoderLayer")
    {
        layer_norm1 = LayerNorm(dim);
        self_attn = new ToySelfAttention(dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => self_attn.forward(layer_norm1.forward(x));
}

public sealed class ToySelfAttention : Module<Tensor, Tensor>
{
    public Linear q_proj, k_proj, v_proj, out_proj;

    public ToySelfAttention(int dim) : base("ToySelfAttention")
    {
        q_proj = Linear(dim, dim);
        k_proj = Linear(dim, dim);
        v_proj = Linear(dim, dim);
        out_proj = Linear(dim, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var attended = ToyWorld.Attend(q_proj.forward(x), k_proj.forward(x), v_proj.forward(x));
        return out_proj.forward(attended).MoveToOuterDisposeScope();
    }
}

/// <summary>A word → id table standing in for the CLIP tokenizer.</summary>
public sealed class ToyVocabulary : IConceptVocabulary
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    public ToyVocabulary(params string[] words)
    {
        foreach (var word in words) _ids[word] = _ids.Count;
    }

    public int Count => _ids.Count;
    public int? TokenId(string token) => _ids.TryGetValue(token, out var id) ? id : null;
    public int AddToken(string token) => _ids[token] = _ids.Count;
}

/// <summary>Builds seeded toy models and runs them.</summary>
public sealed class ToyWorld : IDisposable
{
    public static readonly string[] Words = ["<start>", "a", "photo", "of", "dog", "sks", "<end>"];

    /// <para>dtype: Weights and latents are cast to it after the float32 initialisation (same values, rounded).</para>
    public ToyWorld(long seed = 7, ScalarType dtype = ScalarType.Float32)
    {
        Unet = new ToyUnet();
        TextEncoder = new ToyTextEncoder(Words.Length);
        Vocabulary = new ToyVocabulary(Words);
        Model = new ConceptModel(Unet, TextEncoder, Vocabulary);
        using var generator = new torch.Generator((ulong)seed + 1);
        // Every value comes from the private generator: the global RNG is shared with tests running in parallel.
        // Norms get perturbed γ/β (TorchSharp 0.107's GroupNorm leaves them uninitialised; this also exercises them).
        using (var noGrad = torch.no_grad())
        {
            foreach (var (name, parameter) in Unet.named_parameters().Concat(TextEncoder.named_parameters()))
            {
                using var noise = torch.randn(parameter.shape, generator: generator);
                if (name.Contains("norm")) parameter.copy_(name.EndsWith("weight") ? noise * 0.1 + 1 : noise * 0.1);
                else if (name.Contains("embedding")) parameter.copy_(noise);
                else parameter.copy_(noise / Math.Sqrt(parameter.dim() > 1 ? parameter[0].numel() : parameter.shape[0]));
            }
        }
        Latents = torch.randn([2, 4, 4, 4], generator: generator).to_type(dtype);
        Probe = torch.randn([2, 4, 4, 4], generator: generator).to_type(dtype);
        Unet.to(dtype);
        TextEncoder.to(dtype);
    }

    /// <summary>softmax(QKᵀ/√d)·V written out: on this CPU build scaled_dot_product_attention's backward on 3-D inputs gave NaN gradients.</summary>
    public static Tensor Attend(Tensor q, Tensor k, Tensor v) =>
        functional.softmax(q.matmul(k.transpose(1, 2)) / Math.Sqrt(q.shape[^1]), -1).matmul(v);

    public ToyUnet Unet { get; }
    public ToyTextEncoder TextEncoder { get; }
    public ToyVocabulary Vocabulary { get; }
    public ConceptModel Model { get; }
    public Tensor Latents { get; }
    public Tensor Probe { get; }

    /// <summary>Ids of "a photo of &lt;word&gt; dog" (padded to 6) for each word.</summary>
    public Tensor Ids(params string[] words) =>
        torch.tensor(words.SelectMany(w => new long[] { 0, 1, 2, 3, Vocabulary.TokenId(w)!.Value, 4 }).ToArray()).reshape(words.Length, 6);

    /// <summary>UNet output on the probe latents for the given prompt words (no grad).</summary>
    public Tensor Output(params string[] words)
    {
        using var noGrad = torch.no_grad();
        using var ids = Ids(words);
        using var context = TextEncoder.forward(ids);
        return Unet.forward(Probe, context);
    }

    public void Dispose()
    {
        Unet.Dispose();
        TextEncoder.Dispose();
        Latents.Dispose();
        Probe.Dispose();
    }
}

/// <summary>Denoising loss on a fixed batch with fixed noise and timesteps ("overfit one batch").</summary>
public sealed class FixedBatchObjective(ToyWorld world, string word, bool randomNoise = false) : ITrainingObjective, IDisposable
{
    private readonly DiffusionLoss _loss = new();
    private readonly Tensor _noise = torch.randn([2, 4, 4, 4], generator: new torch.Generator(99));
    private readonly Tensor _timesteps = torch.tensor(new long[] { 250, 600 });

    public Tensor Loss(long step, int microStep, Generator generator)
    {
        using var ids = world.Ids(word, word);
        var context = world.TextEncoder.forward(ids);
        NoisePredictor predict = (noisy, _, text) => world.Unet.forward(noisy, text);
        return randomNoise
            ? _loss.Compute(predict, world.Latents, context, generator)
            : _loss.Compute(predict, world.Latents, context, _noise, _timesteps);
    }

    public void Dispose()
    {
        _loss.Dispose();
        _noise.Dispose();
        _timesteps.Dispose();
    }
}
