using System.Diagnostics;

namespace PersonGen.Tests.Support;

/// <summary>Runs the built <c>persongen</c> command as a real child process (<c>dotnet persongen.dll …</c>).</summary>
public static class CliProcess
{
    /// <summary>The CLI assembly the test project copies next to itself, so it is always the one just built.</summary>
    public static string CliAssembly { get; } = Path.Combine(AppContext.BaseDirectory, "persongen.dll");

    public static Process Start(params string[] args)
    {
        Assert.True(File.Exists(CliAssembly), $"{CliAssembly} not found: build tests/PersonGen.Tests first");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(CliAssembly);
        foreach (string arg in args) info.ArgumentList.Add(arg);
        var process = Process.Start(info)!;
        // Drained in the background so a full pipe never blocks the child before it is killed.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// Starts the command, waits until <paramref name="outputsBeforeKill"/> files match <paramref name="pattern"/> under
    /// <paramref name="watched"/>, waits <paramref name="delayMs"/> more and SIGKILLs it (Process.Kill on Linux).
    /// </summary>
    /// <returns>False when the command finished by itself before the kill.</returns>
    public static bool KillAfterOutputs(string[] args, string watched, string pattern, int outputsBeforeKill, int delayMs)
    {
        using var process = Start(args);
        while (!process.HasExited && Count(watched, pattern) < outputsBeforeKill) Thread.Sleep(5);
        if (!process.HasExited) Thread.Sleep(delayMs);
        bool killed = false;
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                killed = true;
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
        process.WaitForExit();
        return killed;
    }

    private static int Count(string folder, string pattern) =>
        Directory.Exists(folder) ? Directory.EnumerateFileSystemEntries(folder, pattern, SearchOption.AllDirectories).Count() : 0;
}
