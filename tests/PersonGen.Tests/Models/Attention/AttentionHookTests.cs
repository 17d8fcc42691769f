using PersonGen.Models.Attention;
using PersonGen.Models.Unet;
using PersonGen.Tests.Support;
using static TorchSharp.torch;
using AttentionLayer = PersonGen.Models.Attention.Attention;

namespace PersonGen.Tests.Models.Attention;

/// <summary>The attention hook contract on the tiny SD-2 UNet and on a standalone VAE-style layer.</summary>
public sealed class AttentionHookTests : IDisposable
{
    private readonly UNet2DConditionModel _unet =
        UNet2DConditionModel.Load(TestPaths.Golden("tiny_sd2", "unet"), ScalarType.Float32, CPU);

    private static (Tensor Sample, Tensor Timestep, Tensor Text) Inputs()
    {
        var generator = new TorchSharp.torch.Generator(7);
        return (randn([2, 4, 16, 16], generator: generator), tensor(new long[] { 801, 201 }),
            randn([2, 77, 32], generator: generator));
    }

    [Fact]
    public void A_pass_through_hook_that_asks_for_probabilities_changes_nothing()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (sample, timestep, text) = Inputs();
        var plain = _unet.call(sample, timestep, text);
        var hook = new PassThroughHook();
        _unet.AttentionHook = hook;
        var hooked = _unet.call(sample, timestep, text);
        _unet.AttentionHook = null;

        Assert.Equal(32, hook.ProbabilityCalls); // 16 attn1 + 16 attn2, all on the explicit path
        Assert.Equal(32, hook.OutputCalls);
        Assert.InRange((plain - hooked).abs().max().item<float>(), 0, 1e-5f);
    }

    [Fact]
    public void A_capturing_hook_sees_normalised_cross_attention_at_every_attn2_layer()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (sample, timestep, text) = Inputs();
        var hook = new CrossAttentionCapture();
        _unet.AttentionHook = hook;
        _unet.call(sample, timestep, text);
        _unet.AttentionHook = null;

        Assert.Equal(16, hook.Captured.Count);
        Assert.All(hook.Captured.Keys, path => Assert.EndsWith(".attn2", path));
        Assert.Contains("up_blocks.1.attentions.0.transformer_blocks.0.attn2", hook.Captured.Keys);
        Assert.Contains("mid_block.attentions.0.transformer_blocks.0.attn2", hook.Captured.Keys);
        foreach (var (path, (site, probabilities)) in hook.Captured)
        {
            int size = path.StartsWith("down_blocks.0", StringComparison.Ordinal) || path.StartsWith("up_blocks.3", StringComparison.Ordinal) ? 16
                : path.StartsWith("down_blocks.1", StringComparison.Ordinal) || path.StartsWith("up_blocks.2", StringComparison.Ordinal) ? 8
                : path.StartsWith("down_blocks.2", StringComparison.Ordinal) || path.StartsWith("up_blocks.1", StringComparison.Ordinal) ? 4
                : 2;
            Assert.Equal(AttentionKind.Cross, site.Kind);
            Assert.Equal((size, size, 77), (site.Height, site.Width, site.KeyLength));
            Assert.Equal(new long[] { 2, site.Heads, size * size, 77 }, probabilities.shape);
            Assert.InRange((probabilities.sum(-1) - 1).abs().max().item<float>(), 0, 1e-5f);
        }
        Assert.Equal(2, hook.Captured["down_blocks.0.attentions.0.transformer_blocks.0.attn2"].Site.Heads);
        Assert.Equal(4, hook.Captured["mid_block.attentions.0.transformer_blocks.0.attn2"].Site.Heads);
        foreach (var (_, kept) in hook.Captured.Values) kept.Dispose();
    }

    [Fact]
    public void Every_attention_layer_knows_its_diffusers_path()
    {
        Assert.Equal(32, _unet.AttentionLayers.Count);
        var names = _unet.named_modules().Select(m => m.name).ToHashSet();
        Assert.All(_unet.AttentionLayers, layer => Assert.Contains(layer.Path, names));
        Assert.Contains(_unet.AttentionLayers, l => l.Path == "down_blocks.0.attentions.1.transformer_blocks.0.attn1");
    }

    [Fact]
    public void A_hook_can_replace_outputs_and_probabilities()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (sample, timestep, text) = Inputs();
        var plain = _unet.call(sample, timestep, text);
        _unet.AttentionHook = new UniformProbabilities();
        var edited = _unet.call(sample, timestep, text);
        _unet.AttentionHook = null;
        Assert.True((plain - edited).abs().max().item<float>() > 1e-3f);
    }

    [Fact]
    public void The_spatial_path_is_group_norm_attention_and_residual()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var layer = new AttentionLayer(new AttentionConfig(8, 1, 8, QkvBias: true, NormGroups: 4, NormEps: 1e-6,
            ResidualConnection: true), "mid_block.attentions.0");
        Assert.Equal(
            new[] { "group_norm.weight", "group_norm.bias", "to_q.weight", "to_q.bias", "to_k.weight", "to_k.bias",
                "to_v.weight", "to_v.bias", "to_out.0.weight", "to_out.0.bias" },
            layer.state_dict().Keys);
        var image = randn(2, 8, 3, 5);
        var output = layer.forward(image);

        // Reference: tokens (B, HW, C) after the group norm, single-head softmax attention, projection, residual.
        var tokens = nn.functional.group_norm(image, 4, layer.group_norm!.weight, layer.group_norm.bias, 1e-6)
            .reshape(2, 8, 15).transpose(1, 2);
        var q = layer.to_q.call(tokens);
        var k = layer.to_k.call(tokens);
        var v = layer.to_v.call(tokens);
        var p = (q.matmul(k.transpose(1, 2)) / Math.Sqrt(8)).softmax(-1);
        var expected = layer.to_out[0].call(p.matmul(v)).transpose(1, 2).reshape(2, 8, 3, 5) + image;
        Assert.InRange((output - expected).abs().max().item<float>(), 0, 1e-5f);
    }

    public void Dispose() => _unet.Dispose();

    private sealed class PassThroughHook : IAttentionHook
    {
        public int ProbabilityCalls { get; private set; }
        public int OutputCalls { get; private set; }

        public bool NeedsProbabilities(AttentionSite site) => true;

        public Tensor OnProbabilities(AttentionSite site, Tensor probabilities)
        {
            ProbabilityCalls++;
            return probabilities;
        }

        public Tensor OnOutput(AttentionSite site, Tensor output)
        {
            OutputCalls++;
            return output;
        }
    }

    private sealed class CrossAttentionCapture : IAttentionHook
    {
        public Dictionary<string, (AttentionSite Site, Tensor Probabilities)> Captured { get; } = new();

        public bool NeedsProbabilities(AttentionSite site) => site.Kind == AttentionKind.Cross;

        public Tensor OnProbabilities(AttentionSite site, Tensor probabilities)
        {
            // The layer disposes its temporaries: keep a detached copy.
            Captured[site.Path] = (site, probabilities.clone().DetachFromDisposeScope());
            return probabilities;
        }

        public Tensor OnOutput(AttentionSite site, Tensor output) => output;
    }

    private sealed class UniformProbabilities : IAttentionHook
    {
        public bool NeedsProbabilities(AttentionSite site) => site.Kind == AttentionKind.Self;

        public Tensor OnProbabilities(AttentionSite site, Tensor probabilities) =>
            full_like(probabilities, 1.0 / site.KeyLength);

        public Tensor OnOutput(AttentionSite site, Tensor output) => output;
    }
}
