using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Runtime;

/// <summary>
/// Where and in which precision models run, chosen once (CLI <c>--device cpu|cuda|auto</c>,
/// <c>--dtype fp32|fp16|bf16</c>) and handed to everything that creates tensors.
/// </summary>
/// <param name="Device">The TorchSharp device (CPU, or CUDA when available).</param>
/// <param name="DType">The floating-point type of model weights and activations.</param>
public sealed record ComputeOptions(Device Device, ScalarType DType)
{
    /// <summary>CPU in float32: the default, and what tests use.</summary>
    public static ComputeOptions Cpu { get; } = new(torch.CPU, ScalarType.Float32);

    /// <summary>The accepted <c>--device</c> values.</summary>
    public static IReadOnlyList<string> DeviceNames { get; } = ["cpu", "cuda", "auto"];

    /// <summary>The accepted <c>--dtype</c> values.</summary>
    public static IReadOnlyList<string> DTypeNames { get; } = ["fp32", "fp16", "bf16"];

    /// <summary>Parses the device and dtype names (case-insensitive).</summary>
    /// <exception cref="InvalidInputException">An unknown name, or <c>cuda</c> on a machine without a usable CUDA device.</exception>
    public static ComputeOptions Parse(string device, string dtype) =>
        Parse(device, dtype, torch.cuda.is_available);

    /// <summary>As <see cref="Parse(string, string)"/>, with the CUDA probe given (for tests).</summary>
    public static ComputeOptions Parse(string device, string dtype, Func<bool> cudaAvailable)
    {
        var scalarType = dtype.Trim().ToLowerInvariant() switch
        {
            "fp32" or "float32" => ScalarType.Float32,
            "fp16" or "float16" => ScalarType.Float16,
            "bf16" or "bfloat16" => ScalarType.BFloat16,
            _ => throw new InvalidInputException($"unknown dtype '{dtype}'; use one of {string.Join(", ", DTypeNames)}"),
        };
        var selected = device.Trim().ToLowerInvariant() switch
        {
            "cpu" => torch.CPU,
            "cuda" => cudaAvailable()
                ? torch.CUDA
                : throw new InvalidInputException(
                    "`device` cuda was asked for but no CUDA device is available; use `device` cpu (or auto), or build with -p:PersonGenCuda=true on a machine with an NVIDIA GPU"),
            "auto" => cudaAvailable() ? torch.CUDA : torch.CPU,
            _ => throw new InvalidInputException($"unknown device '{device}'; use one of {string.Join(", ", DeviceNames)}"),
        };
        return new ComputeOptions(selected, scalarType);
    }

    public override string ToString() =>
        $"{Device.type.ToString().ToLowerInvariant()}, {DType switch { ScalarType.Float16 => "fp16", ScalarType.BFloat16 => "bf16", _ => "fp32" }}";
}
