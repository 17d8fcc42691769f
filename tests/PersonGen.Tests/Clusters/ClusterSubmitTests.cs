using PersonGen.Cli;
using PersonGen.Evaluation.Clusters;
using PersonGen.Evaluation.Studies;
using PersonGen.Tests.Evaluation.Studies;
using PersonGen.Tests.Support;
using PersonGen.World;
using YamlDotNet.RepresentationModel;

namespace PersonGen.Tests.Clusters;

/// <summary>The Slurm scripts and Kubernetes manifests that <c>study submit</c> writes, checked without a scheduler.</summary>
public class ClusterSubmitTests
{
    private static readonly string Models = Path.Combine(TestPaths.RepoRoot, "models", "shapes-world");

    /// <summary>A 12-job study of the shipped world model.</summary>
    private static string WriteStudy(string folder)
    {
        string path = Path.Combine(folder, "study.json");
        File.WriteAllText(path, $$"""
            {"base_model": "{{Models}}", "concepts": [{"name": "checker-square", "class": "square"}],
             "prompts": ["a photo of a {} on sand", "a photo of a {} on ocean"], "seeds": [0, 1, 2],
             "images_per_prompt": 1, "steps": 3, "strategies": ["base:w=7", "superclass:w=7"]}
            """);
        return path;
    }

    [Fact]
    public void A_dry_run_writes_array_and_merge_scripts_that_run_this_persongen_on_absolute_paths()
    {
        string folder = TestPaths.NewTempDirectory(), outDir = Path.Combine(folder, "out");
        string output = CliRunner.RunOk("study", "submit", WriteStudy(folder), "--out", outDir, "--slurm", "--shards", "3",
            "--partition", "gpu", "--gpus-per-task", "1", "--cpus-per-task", "4", "--mem", "16G", "--time", "02:00:00",
            "--account", "lab", "--extra", "#SBATCH --qos=long", "--dry-run");

        Assert.Contains("dry run: nothing submitted", output);
        Assert.False(File.Exists(SlurmJobs.PathIn(outDir)));
        string slurm = Path.Combine(outDir, "slurm"), copy = Path.Combine(slurm, "study.json");
        var array = File.ReadAllLines(Path.Combine(slurm, "array.sbatch"));
        Assert.Equal("#!/bin/bash", array[0]);
        foreach (string line in new[] { "#SBATCH --array=0-2", "#SBATCH --partition=gpu", "#SBATCH --gpus-per-task=1", "#SBATCH --cpus-per-task=4",
                     "#SBATCH --mem=16G", "#SBATCH --time=02:00:00", "#SBATCH --account=lab", "#SBATCH --qos=long", "#SBATCH --requeue" })
            Assert.Contains(line, array);
        string dll = typeof(Program).Assembly.Location;
        Assert.Equal($"exec {Environment.ProcessPath} {dll} --device cpu --dtype fp32 study run {copy} --out {outDir} --shard \"$SLURM_ARRAY_TASK_ID/3\"", array[^1]);
        var merge = File.ReadAllLines(Path.Combine(slurm, "merge.sbatch"));
        Assert.Equal($"exec {Environment.ProcessPath} {dll} --device cpu --dtype fp32 study merge {copy} --out {outDir}", merge[^1]);
        Assert.DoesNotContain(merge, l => l.Contains("--array") || l.Contains("--gpus"));
        Assert.Equal(Models, StudyDefinition.Load(copy).BaseModel);
    }

    [Fact]
    public void A_resume_queues_only_the_shards_whose_databases_are_incomplete()
    {
        string folder = TestPaths.NewTempDirectory(), outDir = Path.Combine(folder, "out");
        string study = WriteStudy(folder);
        var definition = StudyDefinition.Load(study);
        foreach (int shard in new[] { 0, 2 })
            new StudyRunner(definition, new FakeShapesEngine(), ShapesMetric.All, outDir).Run(new ShardSpec(shard, 3));
        // Shard 1 holds one finished job of its four.
        Assert.Throws<InvalidOperationException>(() =>
            new StudyRunner(definition, new FakeShapesEngine(failAtCall: 2), ShapesMetric.All, outDir).Run(new ShardSpec(1, 3)));

        var shards = ClusterStudy.ReadShards(definition, outDir, 3);
        Assert.Equal([(4, 4), (1, 4), (4, 4)], shards.Select(s => (s.Done, s.Total)));
        string output = CliRunner.RunOk("study", "submit", study, "--out", outDir, "--slurm", "--shards", "3", "--resume", "--dry-run");
        Assert.Contains("shards to run: 1 of 3", output);
    }

    [Fact]
    public void Bad_submit_input_fails_with_one_line()
    {
        string folder = TestPaths.NewTempDirectory(), study = WriteStudy(folder), outDir = Path.Combine(folder, "out");
        var (code, _, error) = CliRunner.Run("study", "submit", study, "--out", outDir, "--slurm", "--shards", "2", "--extra", "--qos=long", "--dry-run");
        Assert.Equal(1, code);
        Assert.Contains("does not start with '#SBATCH '", error);
        Assert.Contains("exactly one of --slurm or --kubernetes", CliRunner.Run("study", "submit", study, "--out", outDir, "--shards", "2").Error);
        Assert.Contains("needs --shards", CliRunner.Run("study", "submit", study, "--out", outDir, "--slurm").Error);
        Assert.Contains("was submitted in", Assert.Throws<InvalidInputException>(() =>
        {
            new SlurmJobs { Study = study, Shards = 3 }.Save(outDir);
            SlurmStudySubmitter.Submit(study, outDir, 4, new SlurmSettings(), ["persongen"], dryRun: true, resume: true);
        }).Message);
        File.WriteAllText(study, File.ReadAllText(study).Replace("\"class\": \"square\"", "\"class\": \"square\", \"checkpoint\": \"/no/such.safetensors\""));
        Assert.Contains("checkpoint '/no/such.safetensors' not found", CliRunner.Run("study", "submit", study, "--out", outDir, "--slurm", "--shards", "2", "--dry-run").Error);
        Assert.Contains("no ", CliRunner.Run("study", "status", Path.Combine(folder, "none")).Error);
    }

    [Theory]
    [InlineData(null, 3)]
    [InlineData("2", 2)]
    public void Kubernetes_manifests_are_an_indexed_job_per_shard_and_a_merge_job(string? parallel, int expectedParallelism)
    {
        string folder = TestPaths.NewTempDirectory(), outDir = Path.Combine(folder, "out");
        string[] args = ["--device", "cuda", "study", "submit", WriteStudy(folder), "--out", outDir, "--kubernetes", "--shards", "3",
            "--image", "registry.example/persongen:0.1", "--mem", "24Gi", .. parallel is null ? Array.Empty<string>() : ["--parallel", parallel]];
        string output = CliRunner.RunOk(args);
        string k8s = Path.Combine(outDir, "k8s");
        Assert.Contains($"kubectl apply -f {Path.Combine(k8s, "study-job.yaml")}", output);

        var job = Load(Path.Combine(k8s, "study-job.yaml"));
        Assert.Equal("batch/v1", Scalar(job, "apiVersion"));
        Assert.Equal("Job", Scalar(job, "kind"));
        var spec = Map(job, "spec");
        Assert.Equal("Indexed", Scalar(spec, "completionMode"));
        Assert.Equal("3", Scalar(spec, "completions"));
        Assert.Equal($"{expectedParallelism}", Scalar(spec, "parallelism"));
        Assert.Equal("3", Scalar(spec, "backoffLimitPerIndex"));
        var pod = Map(Map(spec, "template"), "spec");
        Assert.Equal("Never", Scalar(pod, "restartPolicy"));
        var container = (YamlMappingNode)((YamlSequenceNode)pod.Children["containers"]).Children.Single();
        Assert.Equal("registry.example/persongen:0.1", Scalar(container, "image"));
        var command = ((YamlSequenceNode)container.Children["command"]).Children.Select(n => ((YamlScalarNode)n).Value!).ToArray();
        string copy = Path.Combine(k8s, "study.json");
        Assert.Equal(new[] { "/bin/sh", "-c", $"exec persongen --device cuda --dtype fp32 study run {copy} --out {outDir} --shard \"$JOB_COMPLETION_INDEX/3\"" }, command);
        var limits = Map(Map(container, "resources"), "limits");
        Assert.Equal("1", Scalar(limits, "nvidia.com/gpu"));
        Assert.Equal("24Gi", Scalar(limits, "memory"));
        var mounts = ((YamlSequenceNode)container.Children["volumeMounts"]).Children.Cast<YamlMappingNode>().ToDictionary(m => Scalar(m, "name"));
        Assert.Equal(outDir, Scalar(mounts["results"], "mountPath"));
        Assert.Equal(Models, Scalar(mounts["models"], "mountPath"));
        Assert.Equal("true", Scalar(mounts["models"], "readOnly"));
        var volumes = ((YamlSequenceNode)pod.Children["volumes"]).Children.Cast<YamlMappingNode>().ToDictionary(m => Scalar(m, "name"));
        Assert.Equal("persongen-results", Scalar(Map(volumes["results"], "persistentVolumeClaim"), "claimName"));
        Assert.Equal("persongen-models", Scalar(Map(volumes["models"], "persistentVolumeClaim"), "claimName"));
        Assert.Equal(Models, StudyDefinition.Load(copy).BaseModel);

        var merge = Load(Path.Combine(k8s, "merge-job.yaml"));
        var mergeSpec = Map(merge, "spec");
        Assert.False(mergeSpec.Children.ContainsKey("completionMode"));
        var mergeContainer = (YamlMappingNode)((YamlSequenceNode)Map(Map(mergeSpec, "template"), "spec").Children["containers"]).Children.Single();
        Assert.EndsWith($"study merge {copy} --out {outDir}", ((YamlScalarNode)((YamlSequenceNode)mergeContainer.Children["command"]).Children[2]).Value);
        Assert.False(Map(Map(mergeContainer, "resources"), "limits").Children.ContainsKey("nvidia.com/gpu"));
    }

    [Theory]
    [InlineData("0-2", new[] { 0, 1, 2 })]
    [InlineData("1,4", new[] { 1, 4 })]
    [InlineData("0-1,5%2", new[] { 0, 1, 5 })]
    public void Slurm_task_lists_expand(string text, int[] expected) => Assert.Equal(expected, SlurmClient.ParseTaskList(text));

    private static YamlMappingNode Load(string path)
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(path);
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents.Single().RootNode;
    }

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node.Children[key];

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node.Children[key]).Value!;
}
