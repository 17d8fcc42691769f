using PersonGen.Diffusion.Schedulers;
using PersonGen.Sampling;
using PersonGen.Tests.Support;
using TorchSharp;

namespace PersonGen.Tests.Sampling;

/// <summary>Every strategy but ProFusion under Euler and DPM-Solver++ 2M: the strategies index steps, never timesteps (issue 11, item 3).</summary>
public class StrategySchedulerTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    public static readonly string[] Schedulers = ["euler", "dpmpp-2m"];

    /// <summary>One spec per strategy (ProFusion aside), with its UNet rows per step as in <see cref="StrategyEquivalenceTests"/>.</summary>
    private static readonly (string Spec, double RowsPerStep)[] Strategies =
    [
        ("base:w=7", 2.0),
        ("superclass:w=7", 2.0),
        ("switching:w=7,tsw=3", 2.0),
        ("mixed:wc=3.5,ws=3.5", 3.0),
        ("multistage:wc=4,ws=3,tsw=2", (2 * 2 + 4 * 3) / 6.0),
        ("masked:tsw=2,wc0=0,ws0=7,wc=3.5,ws=3.5,q=0.7", (2 * 2 + 4 * 3) / 6.0),
        ("photoswap:w=7,wref=7,sf=1,cm=3,sm=4", (4 * 4 + 2 * 2) / 6.0),
        ("mixed:wc=3.5,ws=3.5,super=noft", 4.0),
    ];

    public static TheoryData<string, string, bool> StrategiesUnderSchedulers()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (string scheduler in Schedulers)
            foreach (var (spec, _) in Strategies)
                data.Add(scheduler, spec, scheduler == "dpmpp-2m");
        return data;
    }

    public static TheoryData<string, string, string, string> IdentitiesUnderSchedulers()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (string scheduler in Schedulers)
            foreach (var row in StrategyEquivalenceTests.Identities())
            {
                var (identity, left, right) = ((string)row[0], (string)row[1], (string)row[2]);
                if (!left.StartsWith("profusion", StringComparison.Ordinal)) data.Add(scheduler, identity, left, right);
            }
        return data;
    }

    private static SamplingRequest Request(string scheduler, bool karras = false) =>
        TinyModelFixture.Request with { Scheduler = SchedulerChoice.Parse(scheduler, karras) };

    [Theory]
    [MemberData(nameof(StrategiesUnderSchedulers))]
    public void Every_strategy_but_profusion_samples_finite_latents_of_the_right_shape_at_its_usual_cost(string scheduler, string spec, bool karras)
    {
        using var result = fixture.Sampler.Sample(StrategyRegistry.Parse(spec), Request(scheduler, karras), decode: false);
        Assert.Equal(new long[] { 2, 4, 16, 16 }, result.Latents.shape);
        Assert.True(result.Latents.isfinite().all().item<bool>(), $"{spec} under {scheduler}: non-finite latents");
        double rowsPerStep = Strategies.Single(s => s.Spec == spec).RowsPerStep;
        Assert.Equal(rowsPerStep * TinyModelFixture.Steps, result.RowsPerImage, 9);
    }

    [Theory]
    [MemberData(nameof(IdentitiesUnderSchedulers))]
    public void The_strategy_identities_hold_under_each_scheduler(string scheduler, string identity, string left, string right)
    {
        using var a = fixture.Sampler.Sample(StrategyRegistry.Parse(left), Request(scheduler), decode: false);
        using var b = fixture.Sampler.Sample(StrategyRegistry.Parse(right), Request(scheduler), decode: false);
        // Relative: DPM-Solver's x̂₀ = (x − σ_t·ε)/α_t magnifies the float noise of differently batched UNet rows ~15× at t = 999.
        TensorAssert.CloseRelativeToMax(b.Latents, a.Latents, 1e-5, $"{identity} under {scheduler}");
    }

    [Theory]
    [InlineData("euler")]
    [InlineData("dpmpp-2m")]
    public void The_scheduler_changes_the_result_and_a_run_leaves_no_live_tensors_behind(string scheduler)
    {
        var strategy = StrategyRegistry.Parse("photoswap:w=7,wref=7,sf=1,cm=3,sm=4");
        using var ddim = fixture.Sampler.Sample(strategy, TinyModelFixture.Request, decode: false);
        using (var warmup = fixture.Sampler.Sample(strategy, Request(scheduler), decode: false))
            Assert.True(TensorAssert.MaxAbsDifference(warmup.Latents, ddim.Latents) > 1e-3);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var result = fixture.Sampler.Sample(strategy, Request(scheduler), decode: false)) { }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Theory]
    [InlineData("euler")]
    [InlineData("dpmpp-2m")]
    public void Profusion_refuses_a_scheduler_without_the_alpha_algebra_in_one_line(string scheduler)
    {
        var error = Assert.Throws<InvalidInputException>(() =>
            fixture.Sampler.Sample(StrategyRegistry.Parse("profusion:wc=3.5,ws=3.5,r=1,gr=7"), Request(scheduler), decode: false));
        Assert.Contains("ProFusion", error.Message);
        Assert.Contains("ddim", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Sample_with_profusion_and_euler_fails_with_one_line_on_the_command_line()
    {
        string output = TestPaths.NewTempDirectory();
        var (code, _, error) = CliRunner.Run("sample", "--model", TestPaths.Golden("tiny_sd2"), "--prompt", "a {} in the snow",
            "--placeholder", "sks", "--class", "dog", "--strategy", "profusion", "--steps", "2", "--scheduler", "euler",
            "--no-decode", "--out", output);
        Assert.Equal(1, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("ProFusion", error);
    }
}
