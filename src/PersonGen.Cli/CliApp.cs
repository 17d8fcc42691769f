using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Reflection;
using System.Text.RegularExpressions;

namespace PersonGen.Cli;

/// <summary>
/// Builds the root command and runs it with PersonGen's conventions: exit code 0 on success, 1 on failure
/// (one line <c>error: ...</c> on stderr; the stack trace only with <c>--verbose</c>), 2 on a usage error.
/// </summary>
public static partial class CliApp
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int UsageError = 2;

    /// <summary>Creates the root command from the subcommand factories and adds the global options.</summary>
    public static RootCommand BuildRootCommand(IEnumerable<Func<Command>> commandFactories)
    {
        var root = new RootCommand("PersonGen: personalized text-to-image generation with Stable Diffusion.");
        root.Options.Add(GlobalOptions.Verbose);
        root.Options.Add(GlobalOptions.Device);
        root.Options.Add(GlobalOptions.DType);
        foreach (var option in root.Options.OfType<VersionOption>()) option.Action = new PrintVersion();
        foreach (var create in commandFactories) root.Subcommands.Add(create());
        return root;
    }

    /// <summary>The CLI assembly's informational version (the default action would report the host's when run in-process).</summary>
    public static string Version { get; } =
        typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Version);
            return Success;
        }
    }

    /// <summary>Parses and runs <paramref name="args"/>, writing to the given writers; returns the exit code.</summary>
    public static int Run(RootCommand root, IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0 && parseResult.Action is not HelpAction)
        {
            string problems = string.Join("; ", parseResult.Errors.Select(e => e.Message.ReplaceLineEndings(" ").TrimEnd('.')));
            string command = string.Join(' ', CommandPath(parseResult.CommandResult).Prepend("persongen"));
            error.WriteLine($"error: {problems} (see '{command} --help')");
            return UsageError;
        }
        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            return parseResult.Invoke(configuration);
        }
        catch (Exception e)
        {
            bool verbose = parseResult.GetValue(GlobalOptions.Verbose);
            error.WriteLine(e switch
            {
                PersonGenException => $"error: {FieldsAsFlags(OneLine(e.Message))}",
                // A file-system refusal the library did not translate still names its path in the message.
                IOException or UnauthorizedAccessException => $"error: {OneLine(e.Message).TrimEnd('.')}: check that the paths given exist and can be written (rerun with --verbose for details)",
                _ => $"error: unexpected {e.GetType().Name}: {OneLine(e.Message)} (rerun with --verbose for details)",
            });
            if (verbose) error.WriteLine(e.ToString());
            return Failure;
        }
    }

    // The subcommand names from the root down ("study run"), so the hint points at the help of the command used.
    private static IEnumerable<string> CommandPath(CommandResult? result) =>
        result is null || result.Command is RootCommand ? [] : CommandPath(result.Parent as CommandResult).Append(result.Command.Name);

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    // The library names a field as `batch_size`; the command line calls it --batch-size (and the image count -n).
    private static string FieldsAsFlags(string message) =>
        FieldName().Replace(message, m => m.Groups[1].Value == "image_count" ? "-n" : "--" + m.Groups[1].Value.Replace('_', '-'));

    [GeneratedRegex("`([a-z][a-z0-9_]*)`")]
    private static partial Regex FieldName();
}
