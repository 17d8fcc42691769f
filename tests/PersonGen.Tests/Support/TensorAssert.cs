using static TorchSharp.torch;

namespace PersonGen.Tests.Support;

/// <summary>Whole-tensor comparisons by max-abs difference.</summary>
public static class TensorAssert
{
    public static double MaxAbsDifference(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var difference = (actual.to_type(ScalarType.Float64) - expected.to_type(ScalarType.Float64)).abs().max();
        return difference.item<double>();
    }

    /// <summary>Asserts max|actual − expected| ≤ tolerance.</summary>
    public static void Close(Tensor expected, Tensor actual, double tolerance, string what = "tensor")
    {
        double difference = MaxAbsDifference(actual, expected);
        Assert.True(difference <= tolerance, $"{what}: max abs difference {difference:E3} > {tolerance:E3}");
    }

    /// <summary>Asserts max|actual − expected| ≤ relative · max|expected| (the multi-step loop criterion).</summary>
    public static void CloseRelativeToMax(Tensor expected, Tensor actual, double relative, string what = "tensor")
    {
        using var peak = expected.abs().max();
        Close(expected, actual, relative * peak.to_type(ScalarType.Float64).item<double>(), what);
    }
}
