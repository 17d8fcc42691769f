namespace PersonGen.IO;

/// <summary>
/// Writes a file through a uniquely named temporary sibling and a rename, so readers (and a run killed mid-write) never
/// see a partial file; the file system's refusals become one line naming the path (<see cref="OutputPath"/>).
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> (creating its folder) with <paramref name="write"/>, atomically.</summary>
    /// <exception cref="OutputPathException">The path cannot be written.</exception>
    public static void Write(string path, Action<Stream> write) => OutputPath.Guard(path, () =>
    {
        string fullPath = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        string temporary = fullPath + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
                write(stream);
            File.Move(temporary, fullPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    });

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    /// <exception cref="OutputPathException">The path cannot be written.</exception>
    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));

    /// <summary>Writes <paramref name="text"/> (UTF-8, no byte-order mark, as File.WriteAllText) to <paramref name="path"/> atomically.</summary>
    /// <exception cref="OutputPathException">The path cannot be written.</exception>
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));
}
