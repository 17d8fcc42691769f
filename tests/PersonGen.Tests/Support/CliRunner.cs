using PersonGen.Cli;

namespace PersonGen.Tests.Support;

/// <summary>Runs the <c>persongen</c> root command in process and captures its exit code and output.</summary>
public static class CliRunner
{
    public static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(Program.BuildRootCommand(), args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Runs and asserts success, showing stderr when it fails.</summary>
    public static string RunOk(params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.True(code == 0, $"persongen {string.Join(' ', args)} exited {code}: {error}");
        return output;
    }
}
