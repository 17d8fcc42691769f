using PersonGen.Evaluation;

namespace PersonGen.Tests.Evaluation;

public class ParetoFrontTests
{
    [Fact]
    public void The_front_of_a_known_point_set_is_its_non_dominated_points()
    {
        ParetoPoint[] points =
        [
            new("a", 0.1, 0.9), new("b", 0.5, 0.7), new("c", 0.4, 0.6), new("d", 0.9, 0.2),
            new("e", 0.5, 0.5), new("f", 1.0, 0.0), new("g", 0.9, 0.1), new("h", 0.05, 0.9), new("i", 0.5, 0.7),
        ];
        var front = ParetoFront.Of(points).Select(p => p.Label).ToArray();
        Assert.Equal(["a", "b", "i", "d", "f"], front);
        Assert.True(ParetoFront.Dominates(points[1], points[2]));
        Assert.False(ParetoFront.Dominates(points[1], points[8]));
    }

    [Fact]
    public void Values_equal_up_to_rounding_are_ties()
    {
        // The same mean computed two ways (282/288, and the mean of per-prompt means) can differ in the last bit.
        double flat = 282.0 / 288, nested = Math.BitDecrement(flat);
        Assert.NotEqual(flat, nested);
        ParetoPoint baseline = new("base", flat, 0.5), better = new("mixed", nested, 0.6), twin = new("twin", nested, 0.5);
        Assert.True(ParetoFront.Dominates(better, baseline));
        Assert.False(ParetoFront.Dominates(baseline, twin));
        Assert.False(ParetoFront.Dominates(twin, baseline));
        Assert.Equal(["mixed"], ParetoFront.Of([baseline, better, twin]).Select(p => p.Label));
        Assert.Equal(["base", "twin"], ParetoFront.Of([baseline, twin]).Select(p => p.Label).Order());
        Assert.Equal(["mixed", "base"], ParetoFront.Of([baseline, better], tolerance: 0).Select(p => p.Label));
    }
}
