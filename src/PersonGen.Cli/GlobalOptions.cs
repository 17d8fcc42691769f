using System.CommandLine;
using PersonGen.Runtime;

namespace PersonGen.Cli;

/// <summary>Options every command accepts (recursive on the root command).</summary>
public static class GlobalOptions
{
    /// <summary><c>--verbose</c>: print stack traces of failures.</summary>
    public static Option<bool> Verbose { get; } = new("--verbose")
    {
        Description = "Print the full stack trace when a command fails.",
        Recursive = true,
    };

    /// <summary><c>--device cpu|cuda|auto</c>.</summary>
    public static Option<string> Device { get; } = CreateChoice("--device", "cpu", ComputeOptions.DeviceNames,
        "Device to compute on (auto = cuda when available, else cpu).");

    /// <summary><c>--dtype fp32|fp16|bf16</c>.</summary>
    public static Option<string> DType { get; } = CreateChoice("--dtype", "fp32", ComputeOptions.DTypeNames,
        "Floating-point type of model weights and activations.");

    /// <summary>The device and dtype chosen on the command line, parsed once.</summary>
    /// <exception cref="InvalidInputException">CUDA asked for and absent.</exception>
    public static ComputeOptions Compute(ParseResult parseResult) =>
        ComputeOptions.Parse(parseResult.GetValue(Device)!, parseResult.GetValue(DType)!);

    private static Option<string> CreateChoice(string name, string defaultValue, IReadOnlyList<string> choices, string description)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            Recursive = true,
            DefaultValueFactory = _ => defaultValue,
        };
        option.AcceptOnlyFromAmong([.. choices]);
        return option;
    }
}
