namespace PersonGen.Evaluation.Studies;

/// <summary>The output folder of a study: created on demand, with one message for a folder that cannot be written.</summary>
internal static class StudyFolder
{
    /// <summary>Creates <paramref name="folder"/> if needed and returns it.</summary>
    /// <exception cref="PersonGenException">It cannot be created.</exception>
    public static string Create(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
            return folder;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw NotWritable(folder, e);
        }
    }

    public static PersonGenException NotWritable(string folder, Exception cause) =>
        new($"results folder '{folder}' is not writable ({cause.Message.Split('\n')[0].TrimEnd('.')}): make it writable or use another output folder");
}
