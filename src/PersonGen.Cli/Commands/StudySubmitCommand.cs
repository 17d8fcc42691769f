using System.CommandLine;
using PersonGen.Evaluation.Clusters;

namespace PersonGen.Cli.Commands;

/// <summary>
/// <c>persongen study submit STUDY.json --out DIR --slurm|--kubernetes --shards N</c>: hands the study's shards to a
/// cluster scheduler (a Slurm array job plus a merge job, or a Kubernetes Indexed Job plus a merge Job).
/// </summary>
internal static class StudySubmitCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("study") { Description = "Study file (JSON); the tasks run a copy in DIR with its model paths made absolute." };
        var output = new Option<string>("--out") { Description = "Study output folder on storage every node shares (results, images, scripts).", Required = true };
        var slurm = new Option<bool>("--slurm") { Description = "Write DIR/slurm/array.sbatch and merge.sbatch and submit them with sbatch." };
        var kubernetes = new Option<bool>("--kubernetes") { Description = "Write DIR/k8s/study-job.yaml (Indexed Job) and merge-job.yaml; nothing is applied." };
        var shards = new Option<int?>("--shards") { Description = "Number of shards (array tasks / job indices); with --resume the recorded count by default.", HelpName = "N" };
        var partition = new Option<string?>("--partition") { Description = "Slurm partition." };
        var gpus = new Option<int?>("--gpus-per-task") { Description = "GPUs per shard (Slurm --gpus-per-task; Kubernetes nvidia.com/gpu, default 1)." };
        var cpus = new Option<int?>("--cpus-per-task") { Description = "CPUs per shard." };
        var memory = new Option<string?>("--mem") { Description = "Memory per shard (Slurm syntax, e.g. 32G; Kubernetes e.g. 32Gi)." };
        var time = new Option<string?>("--time") { Description = "Slurm time limit per task, e.g. 04:00:00 (a task stopped by it resumes on --resume)." };
        var account = new Option<string?>("--account") { Description = "Slurm account to charge." };
        var extra = new Option<string[]>("--extra") { Description = "A further line for the Slurm scripts, e.g. \"#SBATCH --qos=long\" (repeatable)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only write the Slurm scripts; submit nothing." };
        var resume = new Option<bool>("--resume") { Description = "Resubmit only the shards whose results are not complete (after failures, cancellations or time limits)." };
        var parallel = new Option<int?>("--parallel") { Description = "Kubernetes: pods running at once (default: all shards).", HelpName = "P" };
        var image = new Option<string>("--image") { Description = "Kubernetes: container image with persongen on its PATH.", DefaultValueFactory = _ => "persongen:latest" };
        var command = new Command("submit", "Submit the study's shards to Slurm (array job + merge) or write Kubernetes Indexed Job manifests.")
        {
            file, output, slurm, kubernetes, shards, partition, gpus, cpus, memory, time, account, extra, dryRun, resume, parallel, image,
        };
        command.SetAction(parseResult =>
        {
            // Plain writer lines: the printed commands must not be wrapped at the console width.
            var console = parseResult.InvocationConfiguration.Output;
            string study = parseResult.GetValue(file)!, outDir = Path.GetFullPath(parseResult.GetValue(output)!);
            bool toSlurm = parseResult.GetValue(slurm), toKubernetes = parseResult.GetValue(kubernetes);
            if (toSlurm == toKubernetes) throw new InvalidInputException("study submit needs exactly one of --slurm or --kubernetes");
            string[] computeOptions = ["--device", parseResult.GetValue(GlobalOptions.Device)!, "--dtype", parseResult.GetValue(GlobalOptions.DType)!];
            if (toKubernetes)
            {
                int count = parseResult.GetValue(shards) ?? throw new InvalidInputException("study submit --kubernetes needs --shards N");
                var settings = new KubernetesSettings
                {
                    Image = parseResult.GetValue(image)!,
                    Parallelism = parseResult.GetValue(parallel),
                    GpusPerPod = parseResult.GetValue(gpus) ?? 1,
                    CpusPerPod = parseResult.GetValue(cpus),
                    Memory = parseResult.GetValue(memory),
                };
                var written = KubernetesManifests.Write(study, outDir, count, settings, ["persongen", .. computeOptions]);
                console.WriteLine($"wrote {written.StudyJob} and {written.MergeJob} (nothing applied); to run the study:");
                console.WriteLine($"  kubectl apply -f {written.StudyJob}");
                console.WriteLine($"  kubectl wait --for=condition=complete --timeout=-1s job/{written.StudyJobName}");
                console.WriteLine($"  kubectl apply -f {written.MergeJob}");
                console.WriteLine($"follow it with: kubectl get pods -l job-name={written.StudyJobName}");
                return CliApp.Success;
            }
            var slurmSettings = new SlurmSettings
            {
                Partition = parseResult.GetValue(partition),
                GpusPerTask = parseResult.GetValue(gpus),
                CpusPerTask = parseResult.GetValue(cpus),
                Memory = parseResult.GetValue(memory),
                TimeLimit = parseResult.GetValue(time),
                Account = parseResult.GetValue(account),
                ExtraLines = parseResult.GetValue(extra) ?? [],
            };
            bool resuming = parseResult.GetValue(resume);
            int? requested = parseResult.GetValue(shards);
            if (requested is null && !resuming) throw new InvalidInputException("study submit --slurm needs --shards N");
            var result = SlurmStudySubmitter.Submit(study, outDir, requested, slurmSettings, [.. PersonGenCommandLine(), .. computeOptions],
                parseResult.GetValue(dryRun), resuming);
            Print(console, result, outDir);
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>The command line that runs this very persongen: its apphost, or <c>dotnet /abs/persongen.dll</c>.</summary>
    internal static IReadOnlyList<string> PersonGenCommandLine()
    {
        string process = Environment.ProcessPath ?? "dotnet";
        string name = Path.GetFileNameWithoutExtension(process);
        if (name == "persongen") return [process];
        return [name == "dotnet" ? process : "dotnet", typeof(Program).Assembly.Location];
    }

    private static void Print(TextWriter console, SlurmSubmitResult result, string outDir)
    {
        string shards = result.Shards.Count == 0 ? "none (all complete)" : string.Join(',', result.Shards);
        console.WriteLine($"wrote {result.ArrayScript} and {result.MergeScript}; shards to run: {shards} of {result.ShardCount}");
        if (result.MergeJobId is null)
        {
            console.WriteLine($"dry run: nothing submitted; submit with 'sbatch {result.ArrayScript}', then 'sbatch --dependency=afterok:<array id> {result.MergeScript}'");
            return;
        }
        if (result.CancelledMergeJobId is { } cancelled) console.WriteLine($"cancelled merge job {cancelled} (its array had failed tasks)");
        if (result.ArrayJobId is { } array) console.WriteLine($"array job {array} (shards {shards})");
        console.WriteLine($"merge job {result.MergeJobId}" + (result.ArrayJobId is null ? "" : $" (after array job {result.ArrayJobId} succeeds)"));
        string jobs = string.Join(',', new[] { result.ArrayJobId, result.MergeJobId }.OfType<string>());
        console.WriteLine($"follow it with: squeue -j {jobs}");
        console.WriteLine($"               sacct -j {jobs}   (where the cluster has accounting storage)");
        console.WriteLine($"               persongen study status {outDir}");
    }
}
