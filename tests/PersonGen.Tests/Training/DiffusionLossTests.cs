using PersonGen.Diffusion.Schedulers;
using PersonGen.Tests.Support;
using PersonGen.Training;
using static TorchSharp.torch;

namespace PersonGen.Tests.Training;

/// <summary>Issue 11, item 5: the loss takes its ᾱ from the schedulers' one bit-exact beta computation.</summary>
public class DiffusionLossTests
{
    [Fact]
    public void The_default_loss_uses_the_bit_exact_betas_of_sd_s_scheduler()
    {
        using var scope = NewDisposeScope();
        var sd = new DdimConfig { BetaStart = 0.00085, BetaEnd = 0.012, BetaSchedule = BetaSchedule.ScaledLinear };
        using var loss = new DiffusionLoss();
        // The float64 linspace the loss used before differs from it by up to 4.8e-7.
        TensorAssert.Close(new NoiseSchedule(sd).AlphasCumprod(), loss.AlphasCumprod, 0, "ᾱ");
    }

    [Fact]
    public void A_model_that_predicts_the_clean_sample_is_refused_with_one_line()
    {
        var error = Assert.Throws<InvalidInputException>(() => new DiffusionLoss(PredictionType.Sample));
        Assert.Contains("training supports epsilon or v_prediction", error.Message);
    }
}
