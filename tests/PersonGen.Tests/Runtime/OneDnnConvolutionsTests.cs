using PersonGen.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Tests.Runtime;

public class OneDnnConvolutionsTests
{
    [Fact]
    public void Convolution_gradients_match_a_float64_computation_once_the_library_is_loaded()
    {
        Assert.False(OneDnnConvolutions.Enabled); // set when PersonGen.Core loads
        using var scope = NewDisposeScope();
        var generator = new torch.Generator(5);
        var weight = randn([4, 8, 3, 3], generator: generator);
        var bias = randn([4], generator: generator);
        for (int draw = 0; draw < 10; draw++)
        {
            var x = randn([2, 8, 6, 6], generator: generator).requires_grad_(true);
            var upstream = randn([2, 4, 6, 6], generator: generator);
            var y = nn.functional.conv2d(x, weight, bias, padding: [1, 1]);
            var grad = autograd.grad([y], [x], [upstream])[0];
            var x64 = x.detach().to_type(ScalarType.Float64).requires_grad_(true);
            var y64 = nn.functional.conv2d(x64, weight.to_type(ScalarType.Float64), bias.to_type(ScalarType.Float64), padding: [1, 1]);
            var grad64 = autograd.grad([y64], [x64], [upstream.to_type(ScalarType.Float64)])[0];
            Assert.True((grad - grad64).abs().max().item<double>() < 1e-4, $"draw {draw}: conv2d backward differs from float64");
        }
    }
}
