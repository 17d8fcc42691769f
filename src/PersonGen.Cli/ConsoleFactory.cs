using System.CommandLine;
using Spectre.Console;

namespace PersonGen.Cli;

/// <summary>Spectre.Console consoles over the writer a command was invoked with (the real console, or a test's writer).</summary>
public static class ConsoleFactory
{
    /// <summary>A console writing to the invocation's output; interactive features only on a real terminal.</summary>
    public static IAnsiConsole ForOutput(ParseResult parseResult)
    {
        var writer = parseResult.InvocationConfiguration.Output;
        bool terminal = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        return AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
    }
}
