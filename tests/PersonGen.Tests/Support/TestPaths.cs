namespace PersonGen.Tests.Support;

/// <summary>Locates the repository root and the read-only <c>../shared</c> folder beside it.</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary><c>$PERSONGEN_SHARED</c> if set, else the <c>shared</c> folder beside the repository.</summary>
    public static string Shared { get; } =
        Environment.GetEnvironmentVariable("PERSONGEN_SHARED") is { Length: > 0 } fromEnv
            ? fromEnv
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string Golden(params string[] parts) => Path.Combine([Shared, "golden", .. parts]);

    public static string Data(params string[] parts) => Path.Combine([Shared, "data", .. parts]);

    /// <summary>A fresh empty directory under the system temp folder.</summary>
    public static string NewTempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "persongen-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PersonGen.slnx"))) return dir.FullName;
        }
        throw new InvalidOperationException("PersonGen.slnx not found above " + AppContext.BaseDirectory);
    }
}
