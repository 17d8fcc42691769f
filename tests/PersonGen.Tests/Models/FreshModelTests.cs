using PersonGen.Models.Clip;
using PersonGen.Models.Unet;
using PersonGen.Models.Vae;
using PersonGen.Tests.Support;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.Tests.Models;

/// <summary>Freshly built models (no checkpoint) start from PyTorch's initial values: norm weights 1, biases 0, finite outputs.</summary>
public class FreshModelTests
{
    [Fact]
    public void A_fresh_unet_has_unit_norms_and_finite_outputs()
    {
        using var _ = no_grad();
        using var unet = new UNet2DConditionModel(UnetConfig.FromFile(TestPaths.Golden("tiny_sd2", "unet", "config.json")));
        AssertUnitNorms(unet);
        using var output = unet.call(randn(1, 4, 16, 16), tensor(500L), randn(1, 77, 32));
        Assert.True(output.isfinite().all().item<bool>());
    }

    [Fact]
    public void A_fresh_vae_has_unit_norms_and_finite_outputs()
    {
        using var _ = no_grad();
        using var vae = new AutoencoderKL(VaeConfig.Load(TestPaths.Golden("tiny_sd2", "vae", "config.json")));
        AssertUnitNorms(vae);
        using var posterior = vae.Encode(randn(1, 3, 32, 32));
        using var image = vae.Decode(posterior.Mean);
        Assert.True(posterior.Std.isfinite().all().item<bool>());
        Assert.True(image.isfinite().all().item<bool>());
    }

    [Fact]
    public void Fresh_clip_text_and_vision_models_have_unit_norms_and_finite_outputs()
    {
        using var _ = no_grad();
        var textConfig = new ClipTextConfig { VocabSize = 100, HiddenSize = 32, IntermediateSize = 37, NumHiddenLayers = 2, NumAttentionHeads = 4 };
        using var text = new ClipTextModelWithProjection(textConfig);
        AssertUnitNorms(text);
        using var encoded = text.call(randint(0, 100, [2, 77]));
        Assert.True(encoded.TextEmbeds.isfinite().all().item<bool>());
        Assert.True(encoded.LastHiddenState.isfinite().all().item<bool>());

        var visionConfig = new ClipVisionConfig { HiddenSize = 32, IntermediateSize = 37, NumHiddenLayers = 2, NumAttentionHeads = 4, ImageSize = 32, PatchSize = 8 };
        using var vision = new ClipVisionModelWithProjection(visionConfig);
        AssertUnitNorms(vision);
        using var image = vision.call(randn(2, 3, 32, 32));
        Assert.True(image.ImageEmbeds.isfinite().all().item<bool>());
    }

    private static void AssertUnitNorms(nn.Module model)
    {
        int norms = 0;
        foreach (var (name, module) in model.named_modules())
        {
            var (weight, bias) = module switch
            {
                GroupNorm g => (g.weight, g.bias),
                LayerNorm l => (l.weight, l.bias),
                _ => (null, null),
            };
            if (weight is null) continue;
            norms++;
            Assert.True(weight.eq(1).all().item<bool>(), $"{name}.weight is not 1");
            Assert.True(bias!.eq(0).all().item<bool>(), $"{name}.bias is not 0");
        }
        Assert.True(norms > 0);
    }
}
