namespace PersonGen.IO;

/// <summary>
/// Writes under output paths and turns the file system's refusals (a file where a folder should be, a folder where a
/// file should be, no write permission, a name too long) into one line that names the path and the fix.
/// </summary>
public static class OutputPath
{
    /// <summary>A file-name-safe form: letters, digits and <c>=.,-</c> kept, everything else <c>_</c>.</summary>
    public static string Slug(string text) =>
        new(text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '=' or '.' or ',' or '-' ? c : '_').ToArray());

    /// <summary>Creates <paramref name="directory"/> and its parents.</summary>
    /// <exception cref="OutputPathException">The folder cannot be created.</exception>
    public static void CreateDirectory(string directory) => Run(directory, isFolder: true, () => Directory.CreateDirectory(directory));

    /// <summary>Runs <paramref name="write"/>, which writes <paramref name="path"/>, translating its IO failures.</summary>
    /// <exception cref="OutputPathException">The path cannot be written.</exception>
    public static void Guard(string path, Action write) => Run(path, isFolder: false, write);

    private static void Run(string path, bool isFolder, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Describe(path, isFolder, e);
        }
    }

    private static OutputPathException Describe(string path, bool isFolder, Exception e)
    {
        if (e is PathTooLongException)
            return new(path, "is too long for the file system: choose a shorter output folder (or shorter prompts and names)", e);
        string full = Path.GetFullPath(path);
        if (FileAncestor(isFolder ? full : Path.GetDirectoryName(full)) is { } file)
            return new(file, "is a file, not a folder: choose another output folder, or move the file away", e);
        if (e is UnauthorizedAccessException)
            return new(path, "is not writable: choose an output folder you can write to, or fix its permissions", e);
        if (!isFolder && Directory.Exists(path))
            return new(path, "is a folder: give a file path instead, or remove the folder", e);
        return new(path, $"cannot be written ({e.Message.TrimEnd('.')}): check the free space and the path", e);
    }

    /// <summary>The path itself or its nearest existing ancestor when that is a regular file (nothing can be created under it).</summary>
    private static string? FileAncestor(string? path)
    {
        for (string? at = path; !string.IsNullOrEmpty(at); at = Path.GetDirectoryName(at))
        {
            if (File.Exists(at)) return at;
            if (Directory.Exists(at)) return null;
        }
        return null;
    }
}
