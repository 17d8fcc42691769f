using System.Text;
using System.Text.Json;
using PersonGen.Evaluation.Studies;

namespace PersonGen.Evaluation.Clusters;

/// <summary>The container, volumes and resources of a study's Kubernetes jobs.</summary>
public sealed record KubernetesSettings
{
    /// <summary>An image with <c>persongen</c> on its PATH (see the Dockerfile recipe in the README).</summary>
    public string Image { get; init; } = "persongen:latest";

    /// <summary>Pods running at once; null runs every shard at once.</summary>
    public int? Parallelism { get; init; }

    /// <summary>Retries of one failed shard before the shard counts as failed (the others go on).</summary>
    public int BackoffLimitPerIndex { get; init; } = 3;

    public int GpusPerPod { get; init; } = 1;
    public int? CpusPerPod { get; init; }
    public string? Memory { get; init; }

    /// <summary>The PersistentVolumeClaim holding the study output folder (read-write by every pod: ReadWriteMany).</summary>
    public string ResultsClaim { get; init; } = "persongen-results";

    /// <summary>The PersistentVolumeClaim holding the models, mounted read-only.</summary>
    public string ModelsClaim { get; init; } = "persongen-models";
}

/// <summary>
/// Writes <c>DIR/k8s/study-job.yaml</c>, an Indexed Job whose pod <c>i</c> runs shard <c>$JOB_COMPLETION_INDEX/N</c>,
/// and <c>DIR/k8s/merge-job.yaml</c>; both mount the output folder and the models at the paths they have here, so
/// the study copy's absolute paths hold inside the pods. Nothing is applied.
/// </summary>
public static class KubernetesManifests
{
    public const string StudyJobFileName = "study-job.yaml";
    public const string MergeJobFileName = "merge-job.yaml";

    /// <summary>The folder of the Kubernetes files of a study output folder.</summary>
    public static string Folder(string outDir) => Path.Combine(Path.GetFullPath(outDir), "k8s");

    /// <summary>
    /// Writes the study copy and both manifests into <see cref="Folder"/>; the pods run <paramref name="persongen"/>, the
    /// command inside the image, e.g. <c>["persongen", "--device", "cuda"]</c>.
    /// </summary>
    /// <returns>The paths of the study job, the merge job, and the Job names.</returns>
    /// <exception cref="InvalidInputException">Bad study, a shard count or parallelism below 1, or a negative GPU count.</exception>
    public static (string StudyJob, string MergeJob, string StudyJobName, string MergeJobName) Write(
        string studyPath, string outDir, int shards, KubernetesSettings settings, IReadOnlyList<string> persongen)
    {
        if (shards < 1) throw new InvalidInputException($"shards = {shards}: use 1 or more");
        if (settings.Parallelism is < 1) throw new InvalidInputException($"parallelism = {settings.Parallelism}: use 1 or more");
        if (settings.GpusPerPod < 0) throw new InvalidInputException($"GPUs per pod = {settings.GpusPerPod}: use 0 or more");
        string folder = Folder(outDir), results = Path.GetFullPath(outDir);
        var (studyCopy, study) = ClusterStudy.WriteResolvedCopy(studyPath, folder);
        var modelPaths = ClusterStudy.ModelPaths(study);
        string? models = modelPaths.Count > 0 ? CommonFolder(modelPaths) : null;
        string name = "persongen-" + NameSlug(Path.GetFileName(results));
        string program = string.Join(' ', persongen.Select(ClusterStudy.ShellQuote));
        string studyArgument = ClusterStudy.ShellQuote(studyCopy), output = ClusterStudy.ShellQuote(results);

        var job = new StringBuilder();
        Metadata(job, name + "-study");
        job.AppendLine("spec:");
        job.AppendLine("  completionMode: Indexed");
        job.AppendLine($"  completions: {shards}");
        job.AppendLine($"  parallelism: {settings.Parallelism ?? shards}");
        job.AppendLine($"  backoffLimitPerIndex: {settings.BackoffLimitPerIndex}");
        // A retried pod resumes its shard: finished jobs are in the shard's database on the shared volume.
        Pod(job, settings, "shard", $"exec {program} study run {studyArgument} --out {output} --shard \"$JOB_COMPLETION_INDEX/{shards}\"",
            results, models, gpus: true);

        var merge = new StringBuilder();
        Metadata(merge, name + "-merge");
        merge.AppendLine("spec:");
        merge.AppendLine("  completions: 1");
        merge.AppendLine($"  backoffLimit: {settings.BackoffLimitPerIndex}");
        Pod(merge, settings, "merge", $"exec {program} study merge {studyArgument} --out {output}", results, models, gpus: false);

        string jobPath = Path.Combine(folder, StudyJobFileName), mergePath = Path.Combine(folder, MergeJobFileName);
        AtomicFile.WriteAllText(jobPath, job.ToString());
        AtomicFile.WriteAllText(mergePath, merge.ToString());
        return (jobPath, mergePath, name + "-study", name + "-merge");
    }

    private static void Metadata(StringBuilder yaml, string name)
    {
        yaml.AppendLine("apiVersion: batch/v1");
        yaml.AppendLine("kind: Job");
        yaml.AppendLine("metadata:");
        yaml.AppendLine($"  name: {name}");
        yaml.AppendLine("  labels:");
        yaml.AppendLine("    app.kubernetes.io/name: persongen");
    }

    private static void Pod(StringBuilder yaml, KubernetesSettings settings, string container, string script, string results, string? models, bool gpus)
    {
        yaml.AppendLine("  template:");
        yaml.AppendLine("    spec:");
        yaml.AppendLine("      restartPolicy: Never");
        yaml.AppendLine("      containers:");
        yaml.AppendLine($"        - name: {container}");
        yaml.AppendLine($"          image: {Quote(settings.Image)}");
        yaml.AppendLine($"          command: [\"/bin/sh\", \"-c\", {Quote(script)}]");
        var limits = new List<string>();
        if (gpus && settings.GpusPerPod > 0) limits.Add($"nvidia.com/gpu: {settings.GpusPerPod}");
        if (settings.CpusPerPod is { } cpus) limits.Add($"cpu: {cpus}");
        if (settings.Memory is { } memory) limits.Add($"memory: {Quote(memory)}");
        if (limits.Count > 0)
        {
            yaml.AppendLine("          resources:");
            yaml.AppendLine("            limits:");
            foreach (string limit in limits) yaml.AppendLine($"              {limit}");
        }
        yaml.AppendLine("          volumeMounts:");
        yaml.AppendLine("            - name: results");
        yaml.AppendLine($"              mountPath: {Quote(results)}");
        if (models is not null)
        {
            yaml.AppendLine("            - name: models");
            yaml.AppendLine($"              mountPath: {Quote(models)}");
            yaml.AppendLine("              readOnly: true");
        }
        yaml.AppendLine("      volumes:");
        yaml.AppendLine("        - name: results");
        yaml.AppendLine("          persistentVolumeClaim:");
        yaml.AppendLine($"            claimName: {Quote(settings.ResultsClaim)}");
        if (models is null) return; // a hub id only: the image or its cache supplies the model
        yaml.AppendLine("        - name: models");
        yaml.AppendLine("          persistentVolumeClaim:");
        yaml.AppendLine($"            claimName: {Quote(settings.ModelsClaim)}");
        yaml.AppendLine("            readOnly: true");
    }

    /// <summary>A YAML double-quoted scalar (JSON string syntax is valid YAML).</summary>
    private static string Quote(string text) => JsonSerializer.Serialize(text);

    /// <summary>The deepest folder holding every model path: where the models volume is mounted.</summary>
    private static string CommonFolder(IReadOnlyList<string> paths)
    {
        var folders = paths.Select(p => Directory.Exists(p) ? p : Path.GetDirectoryName(p)!).ToArray();
        string common = folders[0];
        while (!folders.All(f => f == common || f.StartsWith(common.TrimEnd('/') + "/", StringComparison.Ordinal)))
            common = Path.GetDirectoryName(common) ?? "/";
        return common;
    }

    /// <summary>A DNS-label-safe Job name part (lower-case letters, digits, dashes; at most 40 characters).</summary>
    private static string NameSlug(string text)
    {
        string slug = new string(text.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        slug = slug.Length > 40 ? slug[..40].TrimEnd('-') : slug;
        return slug.Length == 0 ? "study" : slug;
    }
}
