using System.Text;
using PersonGen.Evaluation.Studies;

namespace PersonGen.Evaluation.Clusters;

/// <summary>
/// Writes <c>DIR/slurm/array.sbatch</c> (one array task per shard, each running <c>persongen study run … --shard
/// $SLURM_ARRAY_TASK_ID/N</c>) and <c>DIR/slurm/merge.sbatch</c> (<c>persongen study merge</c>).
/// </summary>
public static class SlurmScripts
{
    public const string ArrayFileName = "array.sbatch";
    public const string MergeFileName = "merge.sbatch";

    /// <summary>The folder of the Slurm files of a study output folder.</summary>
    public static string Folder(string outDir) => Path.Combine(Path.GetFullPath(outDir), "slurm");

    /// <summary>
    /// Writes both scripts into <see cref="Folder"/>; they run <paramref name="persongen"/> (a command line prefix, e.g.
    /// <c>["dotnet", "/abs/persongen.dll", "--device", "cuda"]</c>) on the study copy <paramref name="studyCopy"/>.
    /// </summary>
    /// <returns>The paths of the array and merge scripts.</returns>
    /// <exception cref="InvalidInputException">A shard count below 1, or an extra line that is not an <c>#SBATCH</c> line.</exception>
    public static (string Array, string Merge) Write(string outDir, int shards, SlurmSettings settings, IReadOnlyList<string> persongen, string studyCopy)
    {
        if (shards < 1) throw new InvalidInputException($"shards = {shards}: use 1 or more");
        foreach (string line in settings.ExtraLines.Where(l => !l.StartsWith("#SBATCH ", StringComparison.Ordinal)))
            throw new InvalidInputException($"extra Slurm line '{line}' does not start with '#SBATCH ': write e.g. \"#SBATCH --qos=long\"");
        string folder = Folder(outDir), results = Path.GetFullPath(outDir);
        Directory.CreateDirectory(Path.Combine(folder, "logs"));
        string program = string.Join(' ', persongen.Select(ClusterStudy.ShellQuote));
        string study = ClusterStudy.ShellQuote(studyCopy), output = ClusterStudy.ShellQuote(results);

        var array = Header("persongen-study", Path.Combine(folder, "logs", "shard-%a.out"), settings, gpus: true);
        array.AppendLine($"#SBATCH --array=0-{shards - 1}");
        // A preempted or timed-out task is requeued; its rerun skips the shard's finished jobs.
        array.AppendLine("#SBATCH --requeue");
        array.AppendLine("#SBATCH --open-mode=append");
        array.AppendLine();
        array.AppendLine($"exec {program} study run {study} --out {output} --shard \"$SLURM_ARRAY_TASK_ID/{shards}\"");

        var merge = Header("persongen-merge", Path.Combine(folder, "logs", "merge.out"), settings, gpus: false);
        merge.AppendLine();
        merge.AppendLine($"exec {program} study merge {study} --out {output}");

        string arrayPath = Path.Combine(folder, ArrayFileName), mergePath = Path.Combine(folder, MergeFileName);
        AtomicFile.WriteAllText(arrayPath, array.ToString());
        AtomicFile.WriteAllText(mergePath, merge.ToString());
        return (arrayPath, mergePath);
    }

    private static StringBuilder Header(string name, string log, SlurmSettings settings, bool gpus)
    {
        var text = new StringBuilder("#!/bin/bash\n");
        text.AppendLine($"#SBATCH --job-name={name}");
        text.AppendLine($"#SBATCH --output={log}");
        if (settings.Partition is { } partition) text.AppendLine($"#SBATCH --partition={partition}");
        if (settings.Account is { } account) text.AppendLine($"#SBATCH --account={account}");
        if (settings.TimeLimit is { } time) text.AppendLine($"#SBATCH --time={time}");
        if (settings.CpusPerTask is { } cpus) text.AppendLine($"#SBATCH --cpus-per-task={cpus}");
        if (settings.Memory is { } memory) text.AppendLine($"#SBATCH --mem={memory}");
        if (gpus && settings.GpusPerTask is { } gpuCount) text.AppendLine($"#SBATCH --gpus-per-task={gpuCount}");
        foreach (string line in settings.ExtraLines) text.AppendLine(line);
        return text;
    }
}
