using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Diffusion;

/// <summary>
/// Per-run facts and state shared by the loop and the guidance rule: prompts by name, images per prompt,
/// latent shape, seed, token positions of the placeholder, the rule's own state and recorded diagnostics.
/// </summary>
public sealed class DenoisingRun : IDisposable
{
    private readonly Dictionary<string, List<Tensor>> _diagnostics = new(StringComparer.Ordinal);
    private readonly int? _totalImageCount;

    public DenoisingRun(IReadOnlyDictionary<string, string> prompts, int imageCount, long[] latentShape, long seed)
    {
        Prompts = prompts;
        ImageCount = imageCount;
        LatentShape = latentShape;
        Seed = seed;
    }

    /// <summary>Prompt texts by the names branches use (for example "uncond", "concept", "superclass").</summary>
    public IReadOnlyDictionary<string, string> Prompts { get; }

    /// <summary>N: images generated together; every branch has N rows.</summary>
    public int ImageCount { get; }

    /// <summary>Index of this run's first image among all the images of a request that is denoised in batches.</summary>
    public int FirstImage { get; init; }

    /// <summary>Images of the whole request this run is a batch of (N when it is not batched).</summary>
    public int TotalImageCount
    {
        get => _totalImageCount ?? ImageCount;
        init => _totalImageCount = value;
    }

    /// <summary>(N, C, H, W) of one trajectory's latents.</summary>
    public long[] LatentShape { get; }

    /// <summary>The seed of the initial noise (for the reference's template rule: Σ ord(template) + seed).</summary>
    public long Seed { get; }

    /// <summary>Token positions (in the 77-token sequence of the prompt named "concept") of the placeholder.</summary>
    public IReadOnlyList<int> PlaceholderPositions { get; init; } = [];

    /// <summary>Extra tensors a guidance rule may need (for example ProFusion's noise stream under "refine_noise").</summary>
    public IReadOnlyDictionary<string, Tensor> Inputs { get; init; } = new Dictionary<string, Tensor>();

    /// <summary>State the guidance rule created for this run (see <see cref="IGuidance.CreateRunState"/>).</summary>
    public object? State { get; internal set; }

    /// <summary>Tensors recorded per step (a CPU copy each), for example Masked's masks.</summary>
    public IReadOnlyDictionary<string, List<Tensor>> Diagnostics => _diagnostics;

    /// <summary>UNet rows evaluated so far (one row = one latent through the UNet once).</summary>
    public long RowsEvaluated { get; internal set; }

    public double RowsPerImage => (double)RowsEvaluated / ImageCount;

    /// <summary>Stores a detached CPU copy of <paramref name="value"/> under <paramref name="name"/>.</summary>
    public void Record(string name, Tensor value)
    {
        if (!_diagnostics.TryGetValue(name, out var list)) _diagnostics[name] = list = new List<Tensor>();
        list.Add(value.detach().cpu().clone().DetachFromDisposeScope());
    }

    public void Dispose()
    {
        foreach (var list in _diagnostics.Values)
            foreach (var tensor in list) tensor.Dispose();
        _diagnostics.Clear();
        (State as IDisposable)?.Dispose();
    }
}
