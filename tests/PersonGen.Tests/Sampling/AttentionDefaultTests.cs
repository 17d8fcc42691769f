using PersonGen.Diffusion;
using PersonGen.Models.Attention;
using PersonGen.Sampling;
using PersonGen.Tests.Support;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PersonGen.Tests.Sampling;

/// <summary>
/// The default attention paths, Photoswap <c>align=corrected</c> and Masked <c>source=concept</c>, against expectations
/// built here from the prompts' tokens and the attention probabilities (the goldens cover only the reference paths).
/// </summary>
public class AttentionDefaultTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private static ConceptPrompt Prompt => TinyModelFixture.Request.Prompt;

    private int[] PlaceholderPositions()
    {
        var ids = fixture.Model.Tokenizer.Encode(Prompt.Concept);
        int placeholder = fixture.Model.Tokenizer.EncodeUnpadded(Prompt.Placeholder)[1]; // [BOS, sks, EOS]
        return Enumerable.Range(0, ids.Length).Where(j => ids[j] == placeholder).ToArray();
    }

    [Fact]
    public void Photoswap_corrected_gives_each_concept_token_the_map_of_the_same_word_in_the_superclass_prompt()
    {
        // Issue 10, item 4. The expected column of concept token j is read off the two token sequences.
        var concept = fixture.Model.Tokenizer.Encode(Prompt.Concept);
        var superclass = fixture.Model.Tokenizer.Encode(Prompt.Superclass);
        var placeholder = PlaceholderPositions();
        Assert.Single(placeholder);
        var columns = new long[concept.Length];
        int next = 0;
        for (int j = 0; j < concept.Length; j++)
        {
            if (placeholder.Contains(j)) continue;
            columns[j] = next++;
            Assert.Equal(concept[j], superclass[columns[j]]); // the same word (or padding)
        }
        foreach (int j in placeholder) columns[j] = columns[placeholder[^1] + 1]; // the class word that follows
        Assert.Equal(fixture.Model.Tokenizer.EncodeUnpadded(Prompt.ClassWord)[1], superclass[columns[placeholder[0]]]);

        Branch uncond = new(PromptNames.Unconditional), target = new(PromptNames.Concept), donor = new(PromptNames.Superclass, 1);
        var layout = new BranchLayout([uncond, target, new Branch(PromptNames.Unconditional, 1), donor], 2);
        var hook = new PhotoswapAttentionHook(layout, target, donor, selfFeatures: false, crossMaps: true, selfMaps: false,
            TokenAlignment.Corrected, placeholder);
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        var probabilities = F.softmax(randn([8, 2, 4, concept.Length], generator: generator), -1);
        var original = probabilities.clone();
        var site = new AttentionSite("down_blocks.0.attentions.0.transformer_blocks.0.attn2", AttentionKind.Cross, 2, 2, 2, concept.Length);
        var edited = hook.OnProbabilities(site, probabilities);

        var donorMaps = original.narrow(0, 6, 2).index_select(-1, tensor(columns));
        TensorAssert.Close(donorMaps / donorMaps.sum(-1, keepdim: true), edited.narrow(0, 2, 2), 1e-7, "concept rows");
        TensorAssert.Close(original.narrow(0, 0, 2), edited.narrow(0, 0, 2), 0, "unconditional rows");
        TensorAssert.Close(original.narrow(0, 4, 4), edited.narrow(0, 4, 4), 0, "superclass trajectory rows");
    }

    [Fact]
    public void Masked_concept_source_is_the_placeholders_map_recomputed_from_the_concept_rows()
    {
        // Issue 10, item 4: per step, the mean over cross-attention layers of the head-averaged probability of the
        // placeholder in the concept rows, resized bilinearly to the latents; the mask is that map above its q-quantile.
        const int switchStep = 2;
        const double q = 0.7;
        int n = TinyModelFixture.Request.ImageCount;
        var placeholder = PlaceholderPositions();
        var recorded = new Dictionary<int, List<Tensor>>();
        var concept = new Branch(PromptNames.Concept);
        var strategy = new RecordingStrategy(StrategyRegistry.Parse($"masked:tsw={switchStep},q={q}"), (step, layout) =>
        {
            if (step.Index < switchStep || !layout.Contains(concept)) return null;
            recorded[step.Index] = [];
            return new ProbabilityRecorder(layout.Start(concept), n, placeholder, recorded[step.Index]);
        });
        using var result = fixture.Sampler.Sample(strategy, TinyModelFixture.Request, decode: false);
        var maps = result.Diagnostics["attention_map"];
        var masks = result.Diagnostics["mask"];
        Assert.Equal(TinyModelFixture.Steps - switchStep, maps.Count);
        using var scope = NewDisposeScope();
        for (int k = 0; k < maps.Count; k++)
        {
            var layers = recorded[switchStep + k];
            Assert.Equal(16, layers.Count); // every attn2 layer of the tiny UNet
            var expected = stack(layers.Select(heat => F.interpolate(heat, [16, 16], mode: InterpolationMode.Bilinear, align_corners: false))).mean([0]);
            TensorAssert.CloseRelativeToMax(expected, maps[k], 1e-6, $"step {switchStep + k} map");
            var threshold = expected.reshape(n, -1).quantile(tensor((float)q), 1, keepdim: true).reshape(n, 1, 1, 1);
            Assert.True(((expected > threshold) == masks[k]).all().item<bool>(), $"step {switchStep + k} mask");
        }
        foreach (var heat in recorded.Values.SelectMany(l => l)) heat.Dispose();
    }

    /// <summary>Keeps, per cross-attention layer, the concept rows' head-averaged probability of the placeholder, (N, 1, h, w).</summary>
    private sealed class ProbabilityRecorder(int start, int rows, int[] placeholder, List<Tensor> layers) : IAttentionHook
    {
        public bool NeedsProbabilities(AttentionSite site) => site.Kind == AttentionKind.Cross;

        public Tensor OnProbabilities(AttentionSite site, Tensor probabilities)
        {
            if (site.Kind != AttentionKind.Cross) return probabilities;
            Assert.Equal(site.QueryLength, site.Queries); // the tiny model hands whole maps over
            using var scope = NewDisposeScope();
            var placeholderColumns = probabilities.narrow(0, start, rows).index_select(3, tensor(placeholder.Select(p => (long)p).ToArray()));
            var heat = placeholderColumns.mean([1, 3]).reshape(rows, 1, site.Height, site.Width);
            layers.Add(heat.clone().MoveToOuterDisposeScope().DetachFromDisposeScope());
            return probabilities;
        }

        public Tensor OnOutput(AttentionSite site, Tensor output) => output;
    }
}
