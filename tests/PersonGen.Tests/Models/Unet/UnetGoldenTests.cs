using PersonGen.IO;
using PersonGen.Models.Unet;
using PersonGen.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PersonGen.Tests.Models.Unet;

/// <summary>Parity of the tiny SD-2-style UNet with diffusers' outputs in golden/unet.</summary>
public sealed class UnetGoldenTests(ITestOutputHelper log) : IDisposable
{
    private const double Tolerance = 1e-4;

    private readonly UNet2DConditionModel _unet = UNet2DConditionModel.Load(TestPaths.Golden("unet"), ScalarType.Float32, CPU);
    private readonly Dictionary<string, Tensor> _io = SafetensorsFile.Load(TestPaths.Golden("unet", "io.safetensors"));

    [Fact]
    public void Output_matches_diffusers()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var output = _unet.call(_io["sample"], _io["timestep"], _io["encoder_hidden_states"]);
        Assert.Equal(new long[] { 2, 4, 16, 16 }, output.shape);
        double diff = MaxAbsDiff(output, _io["out_sample"]);
        log.WriteLine($"out_sample max abs diff {diff:E2}");
        Assert.InRange(diff, 0, Tolerance);
    }

    [Fact]
    public void A_zero_dimensional_timestep_broadcasts_to_the_batch()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Assert.Equal(0, _io["timestep_scalar"].dim());
        var output = _unet.call(_io["sample"], _io["timestep_scalar"], _io["encoder_hidden_states"]);
        Assert.InRange(MaxAbsDiff(output, _io["out_sample_timestep_scalar"]), 0, Tolerance);
    }

    [Fact]
    public void A_float_timestep_gives_the_same_output_as_an_integer_one()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var output = _unet.call(_io["sample"], _io["timestep"].to_type(ScalarType.Float32), _io["encoder_hidden_states"]);
        Assert.InRange(MaxAbsDiff(output, _io["out_sample"]), 0, Tolerance);
    }

    [Fact]
    public void Every_stage_matches_its_recorded_activation()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var stages = new Dictionary<string, Tensor>();
        _unet.Run(_io["sample"], _io["timestep"], _io["encoder_hidden_states"], (name, t) => stages[name] = t.clone().DetachFromDisposeScope());
        var expected = _io.Keys.Where(k => k.StartsWith("act.", StringComparison.Ordinal)).ToList();
        Assert.Equal(12, expected.Count);
        foreach (string key in expected)
        {
            string stage = key["act.".Length..];
            Assert.True(stages.ContainsKey(stage), $"stage {stage} was not reported");
            Assert.Equal(_io[key].shape, stages[stage].shape);
            double diff = MaxAbsDiff(stages[stage], _io[key]);
            log.WriteLine($"{stage}: max abs diff {diff:E2}");
            Assert.True(diff <= Tolerance, $"{stage}: max abs diff {diff}");
        }
        foreach (var kept in stages.Values) kept.Dispose();
    }

    [Fact]
    public void Float64_weights_reproduce_the_float64_reference()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var unet = UNet2DConditionModel.Load(TestPaths.Golden("unet"), ScalarType.Float64, CPU);
        var output = unet.call(_io["sample"].to_type(ScalarType.Float64), _io["timestep"],
            _io["encoder_hidden_states"].to_type(ScalarType.Float64));
        Assert.Equal(ScalarType.Float64, output.dtype);
        // Both runs take float32 timestep features (as diffusers does), so one-ulp sin/cos differences remain;
        // still ~40× below the float32-vs-float64 gap of 1.7e-6 the golden README reports.
        double diff = MaxAbsDiff(output, _io["out_sample_fp64"]);
        log.WriteLine($"out_sample_fp64 max abs diff {diff:E2}");
        Assert.InRange(diff, 0, 2e-7);
    }

    internal static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return (a.to_type(ScalarType.Float64) - b.to_type(ScalarType.Float64)).abs().max().item<double>();
    }

    public void Dispose()
    {
        _unet.Dispose();
        foreach (var tensor in _io.Values) tensor.Dispose();
    }
}
