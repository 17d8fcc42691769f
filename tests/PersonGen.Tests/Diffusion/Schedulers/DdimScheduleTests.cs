using System.Text.Json;
using PersonGen.Diffusion;
using PersonGen.Diffusion.Schedulers;
using PersonGen.IO;
using PersonGen.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Tests.Diffusion.Schedulers;

public class DdimScheduleTests
{
    private static readonly string GoldenIo = TestPaths.Golden("ddim", "io.safetensors");
    private static DdimConfig GoldenConfig => DdimConfig.Load(TestPaths.Golden("ddim", "scheduler_config.json"));

    [Fact]
    public void Golden_config_reads_as_the_sd2_base_preset()
    {
        Assert.Equal(DdimConfig.Sd2Base, GoldenConfig);
    }

    [Fact]
    public void A_pndm_config_of_a_model_folder_reads_as_ddim_ignoring_pndm_only_keys()
    {
        // tiny_sd2's scheduler is SD-2-base's PNDMScheduler config: skip_prk_steps, no timestep_spacing.
        var config = DdimConfig.Load(TestPaths.Golden("tiny_sd2", "scheduler", "scheduler_config.json"));
        Assert.Equal(DdimConfig.Sd2Base, config);
    }

    [Fact]
    public void Betas_and_alphas_cumprod_equal_diffusers_bitwise()
    {
        using var golden = SafetensorsFile.Open(GoldenIo);
        var noise = new NoiseSchedule(GoldenConfig);
        using var betas = noise.Betas();
        using var alphas = noise.AlphasCumprod();
        using var goldenBetas = golden.Read("betas");
        using var goldenAlphas = golden.Read("alphas_cumprod");
        Assert.True(goldenBetas.equal(betas).all().item<bool>(), "betas differ");
        Assert.True(goldenAlphas.equal(alphas).all().item<bool>(), "alphas_cumprod differ");
        using var final = golden.Read("final_alpha_cumprod");
        Assert.Equal(final.item<float>(), (float)GoldenConfig.CreateSchedule(50).AlphaCumprodPrev(49));
    }

    [Theory]
    [InlineData(50)]
    [InlineData(25)]
    [InlineData(5)]
    [InlineData(1)]
    public void Leading_timesteps_equal_diffusers(int steps)
    {
        using var golden = SafetensorsFile.Open(GoldenIo);
        using var expected = golden.Read($"timesteps_{steps}");
        Assert.Equal(expected.data<long>().ToArray(), GoldenConfig.CreateSchedule(steps).Timesteps);
    }

    [Fact]
    public void Trailing_and_linspace_timesteps_follow_diffusers_formulas()
    {
        var trailing = (DdimConfig.Sd2Base with { TimestepSpacing = TimestepSpacing.Trailing }).CreateSchedule(50).Timesteps;
        Assert.Equal(Enumerable.Range(0, 50).Select(i => 999L - 20 * i), trailing);
        // np.round(np.arange(1000, 0, -1000/3)) - 1 = [999, 666, 332] (666.67 → 667, 333.33 → 333).
        Assert.Equal([999L, 666, 332], (DdimConfig.Sd2Base with { TimestepSpacing = TimestepSpacing.Trailing }).CreateSchedule(3).Timesteps);
        // np.linspace(0, 999, 4).round()[::-1] = [999, 666, 333, 0]; linspace ignores steps_offset.
        Assert.Equal([999L, 666, 333, 0], (DdimConfig.Sd2Base with { TimestepSpacing = TimestepSpacing.Linspace }).CreateSchedule(4).Timesteps);
    }

    public static TheoryData<string, int> StepCases()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(TestPaths.Golden("ddim", "cases.json")));
        var data = new TheoryData<string, int>();
        foreach (var item in json.RootElement.GetProperty("step_cases").EnumerateArray())
            data.Add(item.GetProperty("prediction_type").GetString()!, item.GetProperty("timestep").GetInt32());
        return data;
    }

    [Theory]
    [MemberData(nameof(StepCases))]
    public void Step_equals_diffusers_bitwise(string predictionType, int timestep)
    {
        var config = GoldenConfig with { PredictionType = predictionType == "epsilon" ? PredictionType.Epsilon : PredictionType.VPrediction };
        var schedule = config.CreateSchedule(50);
        int index = schedule.Timesteps.ToList().IndexOf(timestep);
        using var golden = SafetensorsFile.Open(GoldenIo);
        using var sample = golden.Read("step.sample");
        using var modelOutput = golden.Read("step.model_output");
        using var result = schedule.Step(index, modelOutput, sample);
        using var prev = golden.Read($"step.{predictionType}.t{timestep}.prev_sample");
        using var original = golden.Read($"step.{predictionType}.t{timestep}.pred_original_sample");
        Assert.True(MaxAbs(prev, result.PrevSample) == 0, $"prev_sample differs by {MaxAbs(prev, result.PrevSample)}");
        Assert.True(MaxAbs(original, result.PredOriginalSample) == 0, $"pred_original_sample differs by {MaxAbs(original, result.PredOriginalSample)}");
    }

    [Fact]
    public void Add_noise_equals_diffusers_bitwise()
    {
        using var golden = SafetensorsFile.Open(GoldenIo);
        using var original = golden.Read("add_noise.original");
        using var noise = golden.Read("add_noise.noise");
        using var timesteps = golden.Read("add_noise.timesteps");
        using var expected = golden.Read("add_noise.noisy");
        using var noisy = new NoiseSchedule(GoldenConfig).AddNoise(original, noise, timesteps);
        Assert.True(MaxAbs(expected, noisy) == 0, $"add_noise differs by {MaxAbs(expected, noisy)}");
    }

    [Fact]
    public void Velocity_target_is_what_v_prediction_converts_back_to_the_noise()
    {
        var noise = new NoiseSchedule(GoldenConfig);
        var schedule = (GoldenConfig with { PredictionType = PredictionType.VPrediction }).CreateSchedule(50);
        using var x0 = randn(2, 4, 8, 8);
        using var epsilon = randn(2, 4, 8, 8);
        long t = schedule.Timesteps[10];
        using var timesteps = tensor(new[] { t, t });
        using var noisy = noise.AddNoise(x0, epsilon, timesteps);
        using var velocity = noise.Velocity(x0, epsilon, timesteps);
        using var recovered = schedule.ToEpsilon(velocity, noisy, 10);
        Assert.True(MaxAbs(epsilon, recovered) <= 1e-5);
    }

    [Fact]
    public void Sample_prediction_converts_back_to_the_noise()
    {
        var schedule = (GoldenConfig with { PredictionType = PredictionType.Sample }).CreateSchedule(50);
        using var x0 = randn(1, 4, 8, 8);
        using var epsilon = randn(1, 4, 8, 8);
        double alpha = schedule.AlphaCumprod(25);
        using var noisy = x0 * Math.Sqrt(alpha) + epsilon * Math.Sqrt(1 - alpha);
        using var recovered = schedule.ToEpsilon(x0, noisy, 25);
        Assert.True(MaxAbs(epsilon, recovered) <= 1e-4);
    }

    [Fact]
    public void Eta_adds_sigma_scaled_noise_from_the_generator()
    {
        var schedule = GoldenConfig.CreateSchedule(50);
        using var sample = randn(1, 4, 8, 8);
        using var output = randn(1, 4, 8, 8);
        using var deterministic = schedule.Step(10, output, sample);
        using var generator = NoiseSource.CreateGenerator(7);
        using var stochastic = schedule.Step(10, output, sample, eta: 1.0, generator: generator);
        using var noise = NoiseSource.Randn([1, 4, 8, 8], 7);
        double a = schedule.AlphaCumprod(10), aPrev = schedule.AlphaCumprodPrev(10);
        double sigma = Math.Sqrt((1 - aPrev) / (1 - a) * (1 - a / aPrev));
        // x_{t−1} = √α_{t−1}·x̂₀ + √(1−α_{t−1}−σ²)·ε + σ·z   (Eq. 12)
        using var expected = deterministic.PredOriginalSample * Math.Sqrt(aPrev)
            + output * Math.Sqrt(1 - aPrev - sigma * sigma) + noise * sigma;
        Assert.True(MaxAbs(expected, stochastic.PrevSample) <= 1e-5);
        Assert.True(MaxAbs(deterministic.PredOriginalSample, stochastic.PredOriginalSample) == 0);
    }

    [Fact]
    public void Alternative_beta_schedules_follow_their_formulas()
    {
        var cosine = new NoiseSchedule(new DdimConfig { BetaSchedule = BetaSchedule.SquaredCosCapV2 });
        static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
        Assert.Equal((float)(1 - AlphaBar(0.001) / AlphaBar(0)), (float)cosine.Beta(0));
        Assert.Equal(0.999f, (float)cosine.Beta(999));

        var linear = new NoiseSchedule(new DdimConfig());
        Assert.Equal(0.0001f, (float)linear.Beta(0));
        Assert.Equal(0.02f, (float)linear.Beta(999));

        var zeroSnr = new NoiseSchedule(DdimConfig.Sd2Base with { RescaleBetasZeroSnr = true });
        Assert.True(zeroSnr.AlphaCumprod(999) < 1e-9);
        Assert.Equal(new NoiseSchedule(DdimConfig.Sd2Base).AlphaCumprod(0), zeroSnr.AlphaCumprod(0), 6);

        var trained = new NoiseSchedule(new DdimConfig { NumTrainTimesteps = 3, TrainedBetas = [0.1, 0.2, 0.5] });
        Assert.Equal((float)(0.9 * 0.8 * 0.5), (float)trained.AlphaCumprod(2), 6);
    }

    [Fact]
    public void Unknown_beta_schedule_gives_one_clear_line()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "scheduler_config.json");
        File.WriteAllText(path, """{"_class_name": "DDIMScheduler", "beta_schedule": "quadratic"}""");
        var error = Assert.Throws<ModelLoadException>(() => DdimConfig.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("unsupported field beta_schedule = \"quadratic\"", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("""{"thresholding": true}""", "thresholding")]
    [InlineData("""{"prediction_type": "flow"}""", "prediction_type")]
    [InlineData("""{"timestep_spacing": "karras"}""", "timestep_spacing")]
    [InlineData("""{"num_train_timesteps": 3, "trained_betas": [0.1]}""", "trained_betas")]
    [InlineData("""{"steps_offset": "one"}""", "steps_offset")]
    public void Unsupported_scheduler_values_name_the_field(string json, string field)
    {
        var error = Assert.Throws<ModelLoadException>(() => DdimConfig.Parse(json));
        Assert.Contains(field, error.Message);
    }

    [Fact]
    public void Steps_beyond_the_training_schedule_are_refused()
    {
        Assert.Throws<InvalidInputException>(() => DdimConfig.Sd2Base.CreateSchedule(0));
        Assert.Throws<InvalidInputException>(() => DdimConfig.Sd2Base.CreateSchedule(1001));
    }

    [Fact]
    public void Scale_model_input_is_the_identity_and_init_sigma_is_one()
    {
        IScheduler schedule = DdimConfig.Sd2Base.CreateSchedule(5);
        using var sample = randn(1, 4, 4, 4);
        using var scaled = schedule.ScaleModelInput(sample, 0);
        Assert.True(sample.equal(scaled).all().item<bool>());
        Assert.Equal(1.0, schedule.InitNoiseSigma);
    }

    private static double MaxAbs(Tensor expected, Tensor actual) =>
        (expected.to_type(ScalarType.Float64) - actual.to_type(ScalarType.Float64)).abs().max().item<double>();
}
