using PersonGen.Training;
using PersonGen.Training.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Tests.Training;

public sealed class SvdiffGradientTests
{
    [Fact]
    public void The_closed_form_spectral_shift_gradient_equals_autograd_through_the_svd_reconstruction()
    {
        using var world = new ToyWorld();
        var originals = Parameters(world).ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        using var delta = new SvdiffDelta(world.Model);
        using var generator = new torch.Generator(21);
        using (var noGrad = torch.no_grad())
        {
            // Shifts large enough that some Σ+δ fall below zero, so the relu's cut-off is exercised too.
            foreach (var trainable in delta.Trainables.Values) trainable.copy_(torch.randn(trainable.shape, generator: generator) * 0.8);
        }
        delta.PrepareForTraining();
        using var objective = new FixedBatchObjective(world, "sks");
        using (var loss = objective.Loss(0, 0, generator)) loss.backward();
        var weightGradients = Parameters(world).Where(kv => kv.Value.grad is not null).ToDictionary(kv => kv.Key, kv => kv.Value.grad!.clone());
        delta.PropagateGradients();

        int clipped = 0;
        foreach (var (key, trainable) in delta.Trainables)
        {
            string weightKey = key[..^".delta".Length] + ".weight";
            var original = originals[weightKey];
            long rows = original.dim() == 1 ? 1 : original.shape[0];
            var (u, s, vh) = linalg.svd(original.reshape(rows, -1), fullMatrices: false);
            var shift = trainable.detach().clone().requires_grad_(true);
            var effective = original + (u * (nn.functional.relu(s + shift) - s)).matmul(vh).reshape(original.shape);
            torch.autograd.backward([effective], [weightGradients[weightKey]]);
            var expected = shift.grad!;
            var actual = trainable.grad!;
            double scale = Math.Max(expected.abs().max().item<float>(), 1e-12);
            double error = (actual - expected).abs().max().item<float>();
            Assert.True(error <= 1e-5 * scale, $"{key}: closed-form gradient differs from autograd by {error:G3} (scale {scale:G3})");
            clipped += (s + trainable.detach()).le(0).sum().item<long>() > 0 ? 1 : 0;
        }
        Assert.True(clipped > 0, "no singular value was cut off: the test does not cover the relu's zero gradient");
    }

    private static IEnumerable<KeyValuePair<string, Tensor>> Parameters(ToyWorld world) =>
        world.Unet.named_parameters().Select(p => KeyValuePair.Create($"{ConceptModel.UnetComponent}.{p.name}", (Tensor)p.parameter))
            .Concat(world.TextEncoder.named_parameters().Select(p => KeyValuePair.Create($"{ConceptModel.TextEncoderComponent}.{p.name}", (Tensor)p.parameter)));
}
