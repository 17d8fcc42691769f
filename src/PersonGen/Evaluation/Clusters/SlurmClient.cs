using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace PersonGen.Evaluation.Clusters;

/// <summary>
/// The Slurm client commands a study needs: <c>sbatch --parsable</c>, <c>scancel</c> and <c>scontrol show job</c>
/// (<c>sacct</c> is avoided: it needs accounting storage, which many clusters lack).
/// </summary>
public static class SlurmClient
{
    /// <summary>Submits a script with options before it (e.g. <c>--dependency=afterok:12</c>, <c>--array=1,4</c>) and returns its job id.</summary>
    /// <exception cref="PersonGenException">sbatch is missing or refused the script.</exception>
    public static string Submit(string script, params string[] arguments)
    {
        string output = Run("sbatch", ["--parsable", .. arguments, script]).Trim();
        // --parsable prints "jobid" or "jobid;cluster".
        string id = output.Split(';')[0];
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            throw new PersonGenException($"sbatch printed '{output}' instead of a job id for {script}: check the script's #SBATCH lines");
        return id;
    }

    /// <summary>Cancels a job or array task, e.g. <c>12</c> or <c>12_1</c>.</summary>
    public static void Cancel(string job) => Run("scancel", [job]);

    /// <summary>
    /// The state of each array task (or of a plain job, under index -1) that Slurm still knows; tasks that finished
    /// long ago (past the cluster's MinJobAge) are absent.
    /// </summary>
    public static IReadOnlyDictionary<int, string> States(string jobId)
    {
        var (code, output, _) = Execute("scontrol", ["show", "job", "-o", jobId]);
        var states = new Dictionary<int, string>();
        if (code != 0) return states; // an unknown (purged) job id
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(f => f.Split('=', 2)).Where(p => p.Length == 2).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First()[1]);
            if (!fields.TryGetValue("JobState", out string? state)) continue;
            if (fields.TryGetValue("ArrayTaskId", out string? tasks))
                foreach (int task in ParseTaskList(tasks)) states[task] = state;
            else states[-1] = state;
        }
        return states;
    }

    /// <summary>Expands Slurm's task list notation: <c>0-3,7</c>, optionally with a <c>%limit</c> suffix.</summary>
    public static IReadOnlyList<int> ParseTaskList(string text)
    {
        var tasks = new List<int>();
        foreach (string part in text.Split('%')[0].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] range = part.Split(':')[0].Split('-');
            int first = int.Parse(range[0], CultureInfo.InvariantCulture);
            int last = range.Length > 1 ? int.Parse(range[1], CultureInfo.InvariantCulture) : first;
            for (int t = first; t <= last; t++) tasks.Add(t);
        }
        return tasks;
    }

    /// <summary>Whether a Slurm job state is one the job can still leave (pending, running, suspended, requeued…).</summary>
    public static bool IsActive(string state) =>
        state is "PENDING" or "RUNNING" or "SUSPENDED" or "CONFIGURING" or "COMPLETING" or "REQUEUED" or "REQUEUE_HOLD" or "REQUEUE_FED" or "RESIZING" or "SIGNALING" or "STAGE_OUT";

    private static string Run(string program, IReadOnlyList<string> arguments)
    {
        var (code, output, error) = Execute(program, arguments);
        if (code != 0)
            throw new PersonGenException($"{program} {string.Join(' ', arguments)} failed (exit {code}): {error.ReplaceLineEndings(" ").Trim()}");
        return output;
    }

    private static (int Code, string Output, string Error) Execute(string program, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new PersonGenException($"{program} could not be started: check the Slurm client installation");
        }
        catch (Win32Exception)
        {
            throw new PersonGenException($"{program} not found: run on a Slurm login node (or install slurm-client), or only write the scripts (a dry run)");
        }
        using (process)
        {
            var error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output, error.Result);
        }
    }
}
