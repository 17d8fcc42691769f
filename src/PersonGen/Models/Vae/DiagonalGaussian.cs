using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Models.Vae;

/// <summary>
/// The latent distribution the VAE encoder predicts (diffusers <c>DiagonalGaussianDistribution</c>):
/// <see cref="Mean"/>, <see cref="LogVar"/> (clamped to [−30, 20]) and <see cref="Std"/> = exp(½·LogVar),
/// each (B, latent_channels, h, w). Owns its tensors.
/// </summary>
public sealed class DiagonalGaussian : IDisposable
{
    private const double MinLogVar = -30.0;
    private const double MaxLogVar = 20.0;

    /// <summary>Splits moments (B, 2·C, h, w) = cat(mean, logvar) along the channels.</summary>
    public DiagonalGaussian(Tensor moments)
    {
        using var scope = NewDisposeScope();
        var halves = moments.chunk(2, dim: 1);
        Mean = halves[0].contiguous().MoveToOuterDisposeScope();
        LogVar = halves[1].clamp(MinLogVar, MaxLogVar).MoveToOuterDisposeScope();
        Std = (LogVar * 0.5).exp_().MoveToOuterDisposeScope();
    }

    /// <summary>(B, C, h, w)</summary>
    public Tensor Mean { get; }

    /// <summary>(B, C, h, w), clamped to [−30, 20].</summary>
    public Tensor LogVar { get; }

    /// <summary>(B, C, h, w) = exp(½·LogVar).</summary>
    public Tensor Std { get; }

    /// <summary>
    /// Mean + Std·ε with ε ~ N(0, 1) of the mean's dtype, drawn on the generator's device (CPU generators draw on
    /// the CPU, as diffusers' <c>randn_tensor</c> does) or from the global generator when none is given.
    /// </summary>
    public Tensor Sample(Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var drawDevice = generator?.device ?? Mean.device;
        var noise = randn(Mean.shape, dtype: Mean.dtype, device: drawDevice, generator: generator).to(Mean.device);
        return (Mean + Std * noise).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Mean.Dispose();
        LogVar.Dispose();
        Std.Dispose();
    }
}
