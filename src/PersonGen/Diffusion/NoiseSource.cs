using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Diffusion;

/// <summary>
/// Reproducible Gaussian noise: PyTorch's CPU generator (the same libtorch code), so a seed gives the same
/// numbers as <c>torch.randn(shape, generator=torch.Generator().manual_seed(seed))</c> in Python.
/// CUDA generators give other numbers; noise is therefore always drawn on the CPU and then moved.
/// </summary>
public static class NoiseSource
{
    /// <summary>N(0, 1) noise of <paramref name="shape"/>, drawn in <paramref name="dtype"/> (float32 by default) on the CPU, then moved to <paramref name="device"/>.</summary>
    /// <exception cref="InvalidInputException">The seed is negative.</exception>
    public static Tensor Randn(long[] shape, long seed, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        using var generator = CreateGenerator(seed);
        var noise = randn(shape, dtype: dtype, device: CPU, generator: generator);
        if (device is null || device.type == DeviceType.CPU) return noise;
        using (noise) return noise.to(device);
    }

    /// <summary>A CPU generator seeded like <c>torch.Generator().manual_seed(seed)</c>, for several draws in sequence.</summary>
    /// <exception cref="InvalidInputException">The seed is negative.</exception>
    public static Generator CreateGenerator(long seed)
    {
        if (seed < 0) throw new InvalidInputException($"seed {seed} is negative; use a seed ≥ 0");
        return new Generator((ulong)seed, CPU);
    }

    /// <summary>
    /// The reference's per-template seed (PersonGenSampler <c>get_seed</c>): the sum of the template's Unicode code
    /// points (Python's <c>ord</c>) plus <paramref name="seed"/>. Example: <c>"a {0} in the jungle"</c>, 0 → 1702.
    /// </summary>
    public static long SeedForTemplate(string template, int seed)
    {
        long sum = seed;
        foreach (Rune rune in template.EnumerateRunes()) sum += rune.Value;
        return sum;
    }
}
