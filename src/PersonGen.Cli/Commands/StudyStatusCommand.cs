using System.CommandLine;
using PersonGen.Evaluation.Clusters;
using PersonGen.Evaluation.Studies;
using Spectre.Console;

namespace PersonGen.Cli.Commands;

/// <summary><c>persongen study status DIR</c>: per shard, jobs done / total from the shard databases and the Slurm state.</summary>
internal static class StudyStatusCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("dir") { Description = "The study output folder given to 'study submit --out'." };
        var command = new Command("status", "Show each shard's jobs done / total and its Slurm state (from scontrol).") { folder };
        command.SetAction(parseResult =>
        {
            var console = ConsoleFactory.ForOutput(parseResult);
            string outDir = Path.GetFullPath(parseResult.GetValue(folder)!);
            var jobs = SlurmJobs.Load(outDir)
                ?? throw new InvalidInputException($"no {SlurmJobs.PathIn(outDir)}: submit the study with 'persongen study submit --slurm' first");
            var study = StudyDefinition.Load(jobs.Study);
            var shards = ClusterStudy.ReadShards(study, outDir, jobs.Shards);
            var states = new Dictionary<string, IReadOnlyDictionary<int, string>>();
            IReadOnlyDictionary<int, string> StatesOf(string job) => states.TryGetValue(job, out var known) ? known : states[job] = SlurmClient.States(job);

            var table = new Table().AddColumns("shard", "jobs done", "Slurm job", "Slurm state");
            foreach (var shard in shards)
            {
                string? array = jobs.ArrayJobFor(shard.Index);
                string state = array is null ? "" : StatesOf(array).TryGetValue(shard.Index, out string? s) ? s : "gone from the queue";
                table.AddRow($"{shard.Index}", $"{shard.Done}/{shard.Total}", array is null ? "" : $"{array}_{shard.Index}", state);
            }
            console.Write(table);
            var lines = parseResult.InvocationConfiguration.Output;
            if (jobs.Submissions.LastOrDefault() is { } last)
            {
                string merge = StatesOf(last.MergeJobId).Values.FirstOrDefault() ?? "gone from the queue";
                lines.WriteLine($"merge job {last.MergeJobId}: {merge}");
            }
            int complete = shards.Count(s => s.Complete);
            lines.WriteLine($"{complete} of {shards.Count} shards complete"
                + (complete < shards.Count ? $"; after failures resubmit the rest with 'persongen study submit {jobs.Study} --out {outDir} --slurm --resume'" : ""));
            return CliApp.Success;
        });
        return command;
    }
}
