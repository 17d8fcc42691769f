using System.Text.Json;
using PersonGen.Diffusion;
using PersonGen.IO;
using PersonGen.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Tests.Diffusion;

public class NoiseSourceTests
{
    private static readonly string RngFile = TestPaths.Golden("rng", "rng.safetensors");

    public static TheoryData<string, long, long[]> GoldenCases()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(TestPaths.Golden("rng", "rng.json")));
        var data = new TheoryData<string, long, long[]>();
        foreach (var item in json.RootElement.GetProperty("cases").EnumerateArray())
        {
            data.Add(item.GetProperty("key").GetString()!, item.GetProperty("seed").GetInt64(),
                item.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray());
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void Cpu_generator_draws_equal_pytorch_bitwise_and_leave_the_generator_in_the_same_state(string key, long seed, long[] shape)
    {
        using var golden = SafetensorsFile.Open(RngFile);
        using var generator = NoiseSource.CreateGenerator(seed);
        using var normal = randn(shape, generator: generator);
        using var uniform = rand([64], generator: generator);
        using var integers = randint(0, 1000, [16], generator: generator);

        AssertBitwise(golden.Read($"{key}.randn"), normal);
        AssertBitwise(golden.Read($"{key}.rand_after"), uniform);
        AssertBitwise(golden.Read($"{key}.randint_after"), integers);
        using var viaHelper = NoiseSource.Randn(shape, seed);
        AssertBitwise(golden.Read($"{key}.randn"), viaHelper);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1702L)]
    [InlineData(2147483652L)]
    public void Float64_draws_equal_pytorch_bitwise(long seed)
    {
        using var golden = SafetensorsFile.Open(RngFile);
        using var drawn = NoiseSource.Randn([3, 7], seed, dtype: ScalarType.Float64);
        AssertBitwise(golden.Read($"seed{seed}.float64.randn3x7"), drawn);
    }

    [Fact]
    public void Successive_draws_from_one_generator_continue_the_pytorch_stream()
    {
        using var golden = SafetensorsFile.Open(RngFile);
        using var generator = NoiseSource.CreateGenerator(0);
        using var first = randn([1, 4, 8, 8], generator: generator);
        using var second = randn([1, 4, 8, 8], generator: generator);
        AssertBitwise(golden.Read("seed0.sequence.first"), first);
        AssertBitwise(golden.Read("seed0.sequence.second"), second);
    }

    [Fact]
    public void Strategy_initial_latents_are_the_template_seeded_draw()
    {
        long seed = NoiseSource.SeedForTemplate("a {0} in the snow", 0);
        Assert.Equal(1512, seed);
        using var latents = NoiseSource.Randn([2, 4, 16, 16], seed);
        AssertBitwise(SafetensorsFile.Load(TestPaths.Golden("strategies", "init_latents.safetensors"))["latents"], latents);
    }

    [Theory]
    [InlineData("a {0} in the jungle", 0, 1702)]
    [InlineData("a photo of a {0}", 0, 1385)]
    [InlineData("a red {0}", 0, 772)]
    [InlineData("a {0} wearing a red hat", 0, 2031)]
    [InlineData("a {0} in the snow", 10, 1522)]
    [InlineData("😀", 1, 0x1F600 + 1)] // one code point, as Python's ord sees it, not two UTF-16 units
    public void Template_seed_is_the_sum_of_code_points_plus_the_seed(string template, int seed, long expected) =>
        Assert.Equal(expected, NoiseSource.SeedForTemplate(template, seed));

    [Fact]
    public void Negative_seed_is_refused_with_a_clear_error()
    {
        var error = Assert.Throws<InvalidInputException>(() => NoiseSource.Randn([2], -1));
        Assert.Contains("seed -1", error.Message);
    }

    private static void AssertBitwise(Tensor expected, Tensor actual)
    {
        using (expected)
        {
            Assert.Equal(expected.shape, actual.shape);
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.True(expected.equal(actual).all().item<bool>(), $"max abs difference {(expected.to_type(ScalarType.Float64) - actual.to_type(ScalarType.Float64)).abs().max().item<double>()}");
        }
    }
}
