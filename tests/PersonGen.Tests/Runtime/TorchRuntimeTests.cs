using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Tests.Runtime;

public class TorchRuntimeTests
{
    [Fact]
    public void A_matrix_product_and_its_backward_pass_run_on_the_cpu()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1, 2, 3, 4 }, new long[] { 2, 2 }, requires_grad: true);
        var y = x.matmul(x).sum();
        y.backward();
        // d/dX sum(X·X) = 1·Xᵀ + Xᵀ·1 (1 = all-ones matrix).
        var expected = ones(2, 2).matmul(x.t()) + x.t().matmul(ones(2, 2));
        Assert.Equal(54f, y.item<float>());
        Assert.True(x.grad!.allclose(expected.detach()));
    }
}
