namespace PersonGen.Evaluation.Clusters;

/// <summary>What a Slurm submission did: the scripts, the shards it queued and the job ids (null on a dry run).</summary>
public sealed record SlurmSubmitResult(string ArrayScript, string MergeScript, IReadOnlyList<int> Shards, int ShardCount,
    string? ArrayJobId, string? MergeJobId, string? CancelledMergeJobId);

/// <summary>
/// Submits a study to Slurm as an array job (one task per shard) and a merge job that runs after every task
/// succeeded; a resubmission queues only the shards whose databases are not complete.
/// </summary>
public static class SlurmStudySubmitter
{
    /// <summary>
    /// Writes the scripts and, unless <paramref name="dryRun"/>, submits them; <paramref name="shards"/> may be null on a
    /// <paramref name="resume"/> (the recorded count); <paramref name="persongen"/> is the command line prefix that runs
    /// this persongen, e.g. <c>["dotnet", "/abs/persongen.dll"]</c>.
    /// </summary>
    /// <exception cref="PersonGenException">Bad study or settings; a resume without a recorded submission, with another shard count, or while tasks are still queued; sbatch failed.</exception>
    public static SlurmSubmitResult Submit(string studyPath, string outDir, int? shards, SlurmSettings settings,
        IReadOnlyList<string> persongen, bool dryRun, bool resume)
    {
        var previous = SlurmJobs.Load(outDir);
        int count = ShardCount(shards, resume ? previous : null, outDir);
        var (studyCopy, study) = ClusterStudy.WriteResolvedCopy(studyPath, SlurmScripts.Folder(outDir));
        var (arrayScript, mergeScript) = SlurmScripts.Write(outDir, count, settings, persongen, studyCopy);
        var toRun = resume
            ? ClusterStudy.ReadShards(study, outDir, count).Where(s => !s.Complete).Select(s => s.Index).ToArray()
            : Enumerable.Range(0, count).ToArray();
        if (dryRun) return new SlurmSubmitResult(arrayScript, mergeScript, toRun, count, null, null, null);

        string? cancelled = null;
        if (previous?.Submissions.LastOrDefault() is { } last)
        {
            if (last.ArrayJobId is { } lastArray && SlurmClient.States(lastArray).Values.Any(SlurmClient.IsActive))
                throw new PersonGenException($"array job {last.ArrayJobId} of this study still has tasks queued or running: wait for them (persongen study status) or scancel {last.ArrayJobId}, then resubmit");
            // After a failed task the old merge waits forever on its afterok dependency; the new submission brings its own.
            if (SlurmClient.States(last.MergeJobId).Values.Any(SlurmClient.IsActive))
            {
                SlurmClient.Cancel(last.MergeJobId);
                cancelled = last.MergeJobId;
            }
        }

        string? arrayJob = null;
        string mergeJob;
        if (toRun.Length > 0)
        {
            string[] arrayOverride = resume ? [$"--array={string.Join(',', toRun)}"] : [];
            arrayJob = SlurmClient.Submit(arrayScript, arrayOverride);
            mergeJob = SlurmClient.Submit(mergeScript, $"--dependency=afterok:{arrayJob}");
        }
        else mergeJob = SlurmClient.Submit(mergeScript);

        var submission = new SlurmSubmission { ArrayJobId = arrayJob, MergeJobId = mergeJob, Shards = toRun, SubmittedUtc = DateTime.UtcNow };
        var history = resume && previous is not null ? previous.Submissions : [];
        new SlurmJobs { Study = studyCopy, Shards = count, Submissions = [.. history, submission] }.Save(outDir);
        return new SlurmSubmitResult(arrayScript, mergeScript, toRun, count, arrayJob, mergeJob, cancelled);
    }

    private static int ShardCount(int? requested, SlurmJobs? previous, string outDir)
    {
        if (previous is null)
        {
            if (requested is { } n) return n;
            throw new InvalidInputException($"no shard count for the study in {outDir}: pass the shard count (or submit once before resuming)");
        }
        if (requested is { } asked && asked != previous.Shards)
            throw new InvalidInputException($"the study in {outDir} was submitted in {previous.Shards} shards, not {asked}: resume with the same shard count");
        return previous.Shards;
    }
}
