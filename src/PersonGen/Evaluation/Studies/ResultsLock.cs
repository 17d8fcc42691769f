namespace PersonGen.Evaluation.Studies;

/// <summary>
/// An exclusive, cross-process hold on one results file: a sibling <c>.lock</c> file opened with
/// <see cref="FileShare.None"/> (an OS file lock, released when the process ends, even when killed).
/// </summary>
internal sealed class ResultsLock : IDisposable
{
    private readonly FileStream _stream;

    private ResultsLock(FileStream stream) => _stream = stream;

    /// <exception cref="PersonGenException">Another process holds the lock, or the folder cannot be written.</exception>
    public static ResultsLock Acquire(string resultsPath)
    {
        string folder = StudyFolder.Create(Path.GetDirectoryName(Path.GetFullPath(resultsPath))!);
        string lockPath = resultsPath + ".lock";
        try
        {
            return new ResultsLock(new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (UnauthorizedAccessException e)
        {
            throw StudyFolder.NotWritable(folder, e);
        }
        catch (IOException e) when (File.Exists(lockPath))
        {
            throw new PersonGenException($"results '{resultsPath}' are in use by another study run (lock '{lockPath}' is held, {e.Message.TrimEnd('.')}): " +
                "wait for that run to finish, or run into another output folder or shard");
        }
        catch (IOException e)
        {
            throw StudyFolder.NotWritable(folder, e);
        }
    }

    public void Dispose() => _stream.Dispose();
}
