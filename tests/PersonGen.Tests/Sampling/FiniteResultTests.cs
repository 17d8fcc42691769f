using PersonGen.Diffusion;
using PersonGen.Sampling;
using PersonGen.Tests.Support;
using static TorchSharp.torch;

namespace PersonGen.Tests.Sampling;

/// <summary>Sampling never hands back NaN or infinite latents: they are avoided (σ = 0 in ProFusion) or refused at the step they appear.</summary>
public class FiniteResultTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    public static TheoryData<string> EveryStrategy() => new()
    {
        "base:w=7", "superclass:w=7", "mixed:wc=3.5,ws=3.5", "switching:w=7,tsw=3", "multistage:wc=4,ws=3,tsw=2",
        "masked:tsw=2,q=0.7", "profusion:wc=3.5,ws=3.5,r=1,gr=7", "profusion:wc=3.5,ws=3.5,r=0.5,gr=7,k=2",
        "photoswap:w=7,wref=7,sf=1,cm=3,sm=4", "mixed:wc=3.5,ws=3.5,super=noft",
    };

    /// <summary>The fixture's model (same components and concept) with a scheduler whose ᾱ past the last step is 1.</summary>
    private PersonalizedSampler AlphaToOneSampler()
    {
        var model = StableDiffusionModel.FromComponents(fixture.Model.Tokenizer, fixture.Model.TextEncoder, fixture.Model.Unet, fixture.Model.Vae,
            fixture.Model.Scheduler with { SetAlphaToOne = true }, fixture.Model.Compute);
        model.Concept = fixture.Model.Concept;
        return new PersonalizedSampler(model); // the components stay the fixture's: the model is not disposed here
    }

    [Theory]
    [MemberData(nameof(EveryStrategy))]
    public void Every_strategy_gives_finite_latents_when_the_scheduler_sets_alpha_to_one(string spec)
    {
        // Issue 10, item 2: ProFusion divided by 1 − ᾱ_prev = 0 on the last step.
        using var sampler = AlphaToOneSampler();
        using var result = sampler.Sample(StrategyRegistry.Parse(spec), TinyModelFixture.Request, decode: false);
        Assert.True(isfinite(result.Latents).all().item<bool>(), spec);
    }

    [Fact]
    public void ProFusion_skips_the_fusion_where_sigma_is_zero_so_a_one_step_run_with_alpha_to_one_is_mixed()
    {
        using var sampler = AlphaToOneSampler();
        var request = TinyModelFixture.Request with { Steps = 1 };
        using var profusion = sampler.Sample(StrategyRegistry.Parse("profusion:wc=3.5,ws=3.5,r=1,gr=7"), request, decode: false);
        using var mixed = sampler.Sample(StrategyRegistry.Parse("mixed:wc=3.5,ws=3.5"), request, decode: false);
        TensorAssert.Close(mixed.Latents, profusion.Latents, 0, "ProFusion at ᾱ_prev = 1");
    }

    [Fact]
    public void A_scale_that_overflows_stops_at_the_first_step_naming_strategy_and_cause()
    {
        // Issue 10, item 21: base:w=1e308 gave all-NaN latents and a black PNG.
        var strategy = StrategyRegistry.Parse("base:w=1e308");
        var error = Assert.Throws<NonFiniteLatentsException>(() => fixture.Sampler.Sample(strategy, TinyModelFixture.Request, decode: false));
        Assert.Contains(strategy.Spec, error.Message);
        Assert.Contains("step 1 of 6", error.Message);
        Assert.Contains("guidance scale", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void The_sample_command_refuses_to_write_an_image_of_nan_latents()
    {
        string output = TestPaths.NewTempDirectory();
        var (code, _, error) = CliRunner.Run("sample", "--model", TestPaths.Golden("tiny_sd2"), "--prompt", "a {} in the snow",
            "--placeholder", "sks", "--class", "dog", "--strategy", "base:w=1e308", "--steps", "3", "--out", output);
        Assert.Equal(1, code);
        Assert.Contains("NaN or infinite at step 1 of 3", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Empty(Directory.EnumerateFiles(output, "*.png", SearchOption.AllDirectories));
    }
}
