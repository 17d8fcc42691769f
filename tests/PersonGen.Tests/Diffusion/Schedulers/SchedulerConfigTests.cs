using System.Text.Json;
using PersonGen.Diffusion.Schedulers;
using PersonGen.Tests.Support;
using static TorchSharp.torch;

namespace PersonGen.Tests.Diffusion.Schedulers;

/// <summary>Reading Euler and DPM-Solver++ configs, their refusals, and the steppers' contracts (issue 11, item 3).</summary>
public class SchedulerConfigTests
{
    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    [Fact]
    public void A_ddim_config_written_as_json_reads_back_equal()
    {
        var config = DdimConfig.Sd2Base with { PredictionType = PredictionType.VPrediction, TimestepSpacing = TimestepSpacing.Trailing };
        Assert.Equal(config, DdimConfig.Parse(config.ToJson()));
    }

    [Fact]
    public void Euler_and_dpm_take_their_own_spacing_default_where_ddim_takes_leading()
    {
        var folder = Json("""{"_class_name": "PNDMScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "steps_offset": 1}""");
        Assert.Equal(TimestepSpacing.Leading, DdimConfig.Parse(folder).TimestepSpacing);
        Assert.Equal(TimestepSpacing.Linspace, EulerConfig.Parse(folder).TimestepSpacing);
        Assert.Equal(TimestepSpacing.Linspace, DpmSolverConfig.Parse(folder).TimestepSpacing);
        Assert.Equal(BetaSchedule.ScaledLinear, EulerConfig.Parse(folder).Betas.BetaSchedule);
    }

    [Theory]
    [InlineData("""{"prediction_type": "sample"}""", "prediction_type")]
    [InlineData("""{"interpolation_type": "log_linear"}""", "interpolation_type")]
    [InlineData("""{"timestep_type": "continuous"}""", "timestep_type")]
    public void Euler_refuses_what_it_does_not_implement_naming_the_field(string json, string field)
    {
        var error = Assert.Throws<ModelLoadException>(() => EulerConfig.Parse(Json(json)));
        Assert.Contains(field, error.Message);
    }

    [Theory]
    [InlineData("""{"algorithm_type": "sde-dpmsolver++"}""", "algorithm_type")]
    [InlineData("""{"solver_type": "heun"}""", "solver_type")]
    [InlineData("""{"solver_order": 3}""", "solver_order")]
    [InlineData("""{"thresholding": true}""", "thresholding")]
    [InlineData("""{"use_lu_lambdas": true}""", "use_lu_lambdas")]
    public void Dpm_solver_refuses_what_it_does_not_implement_naming_the_field(string json, string field)
    {
        var error = Assert.Throws<ModelLoadException>(() => DpmSolverConfig.Parse(Json(json)));
        Assert.Contains(field, error.Message);
    }

    [Fact]
    public void Karras_sigmas_with_ddim_and_unknown_names_are_refused()
    {
        Assert.Contains("karras", Assert.Throws<InvalidInputException>(() => SchedulerChoice.Parse("ddim", karras: true)).Message);
        Assert.Contains("euler", Assert.Throws<InvalidInputException>(() => SchedulerChoice.Parse("lms")).Message);
        Assert.Equal(SchedulerKind.DpmPlusPlus2M, SchedulerChoice.Parse("dpmpp-2m", karras: true).Kind);
    }

    [Fact]
    public void Only_ddim_offers_the_alpha_algebra_profusion_needs()
    {
        Assert.IsAssignableFrom<IAlphaCumprodSchedule>(((ISchedulerConfig)DdimConfig.Sd2Base).CreateSchedule(5));
        Assert.IsNotAssignableFrom<IAlphaCumprodSchedule>(new EulerConfig().CreateSchedule(5));
        using var dpm = new DpmSolverConfig().CreateSchedule(5);
        Assert.IsNotAssignableFrom<IAlphaCumprodSchedule>(dpm);
    }

    [Fact]
    public void Dpm_solver_refuses_steps_out_of_order_since_it_keeps_history()
    {
        using var schedule = new DpmSolverConfig().CreateSchedule(4);
        using var x = randn(1, 4, 2, 2);
        using (schedule.Step(0, x, x)) { }
        Assert.Throws<InvalidOperationException>(() => schedule.Step(2, x, x));
    }

    [Fact]
    public void Both_sigma_schedulers_recover_x0_from_an_exact_v_prediction()
    {
        using var scope = NewDisposeScope();
        var x0 = randn(1, 4, 3, 3);
        var eps = randn(1, 4, 3, 3);
        var euler = new EulerConfig { PredictionType = PredictionType.VPrediction }.CreateSchedule(10);
        float sigma = euler.Sigmas[3];
        float alpha = 1f / MathF.Sqrt(sigma * sigma + 1f);
        // Euler's sample is x₀ + σε; the model sees it scaled by α = 1/√(σ² + 1) and predicts v = αε − σα·x₀.
        var v = eps * alpha - x0 * (sigma * alpha);
        TensorAssert.Close(x0, euler.Step(3, v, x0 + eps * sigma).PredOriginalSample, 1e-5, "Euler x̂₀");

        using var dpm = new DpmSolverConfig { PredictionType = PredictionType.VPrediction }.CreateSchedule(10);
        float s = dpm.Sigmas[0], a = 1f / MathF.Sqrt(s * s + 1f);
        TensorAssert.Close(x0, dpm.Step(0, eps * a - x0 * (s * a), x0 * a + eps * (s * a)).PredOriginalSample, 1e-5, "DPM x̂₀");
    }
}
