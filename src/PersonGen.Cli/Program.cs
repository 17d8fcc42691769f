using System.CommandLine;
using PersonGen.Cli.Commands;

namespace PersonGen.Cli;

/// <summary>Entry point of the <c>persongen</c> command.</summary>
public static class Program
{
    /// <summary>Every subcommand, one factory per file in <c>Commands/</c>: add a line here to add a command.</summary>
    public static IReadOnlyList<Func<Command>> CommandFactories { get; } =
    [
        InspectCommand.Create,
        GenerateCommand.Create,
        SampleCommand.Create,
        StudyCommand.Create,
        TrainCommand.Create,
        WorldCommand.Create,
        DemoCommand.Create,
        ExportCommand.Create,
    ];

    /// <summary>The root command with its global options and every subcommand.</summary>
    public static RootCommand BuildRootCommand() => CliApp.BuildRootCommand(CommandFactories);

    public static int Main(string[] args) => CliApp.Run(BuildRootCommand(), args, Console.Out, Console.Error);
}
