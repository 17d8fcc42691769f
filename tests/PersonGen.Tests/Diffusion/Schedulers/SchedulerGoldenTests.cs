using System.Text.Json;
using PersonGen.Diffusion;
using PersonGen.Diffusion.Schedulers;
using PersonGen.IO;
using PersonGen.Runtime;
using PersonGen.Tests.Support;
using static TorchSharp.torch;

namespace PersonGen.Tests.Diffusion.Schedulers;

/// <summary>golden/schedulers: diffusers 0.30.3 Euler and DPM-Solver++ 2M (each ± Karras) on tiny_sd2 (issue 11, item 3).</summary>
public class SchedulerGoldenTests
{
    private const int Steps = 6;

    private static JsonElement Cases
    {
        get
        {
            using var document = JsonDocument.Parse(File.ReadAllText(TestPaths.Golden("schedulers", "cases.json")));
            return document.RootElement.GetProperty("cases").Clone();
        }
    }

    public static TheoryData<string> CaseNames() => new(Cases.EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    private static JsonElement Case(string name) => Cases.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static string Io(string name) => TestPaths.Golden("schedulers", name, "io.safetensors");

    /// <summary>The scheduler the case's command line names, configured from tiny_sd2's folder config.</summary>
    private static ISchedulerConfig Scheduler(string name)
    {
        var argv = Case(name).GetProperty("cli_argv").EnumerateArray().Select(a => a.GetString()!).ToList();
        var choice = SchedulerChoice.Parse(argv[argv.IndexOf("--scheduler") + 1], argv.Contains("--karras"));
        string path = TestPaths.Golden("tiny_sd2", "scheduler", "scheduler_config.json");
        return choice.Configure(DdimConfig.Load(path), ConfigJson.ReadFile(path));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void The_cli_reproduces_the_reference_final_latents(string name)
    {
        var argv = Case(name).GetProperty("cli_argv").EnumerateArray().Select(a => a.GetString()!).Skip(1);
        string output = TestPaths.NewTempDirectory();
        string root = TestPaths.Golden();
        CliRunner.RunOk([.. argv.Select(a => a.Replace("{root}", root).Replace("OUT/", output + "/").Replace("OUT", output))]);

        using var scope = NewDisposeScope();
        var expected = SafetensorsFile.Load(Io(name));
        var actual = SafetensorsFile.Load(Path.Combine(output, "latents.safetensors"));
        TensorAssert.CloseRelativeToMax(expected["final_latents"], actual["latents"], 1e-4, $"{name} final latents");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Timesteps_sigmas_and_init_sigma_equal_diffusers(string name)
    {
        using var scope = NewDisposeScope();
        var golden = SafetensorsFile.Load(Io(name));
        var schedule = Scheduler(name).CreateSchedule(Steps);
        // diffusers' Euler timesteps are float32 (799.2, …); the golden stores them as int64, which truncates.
        Assert.Equal(golden["timesteps"].data<long>().ToArray(), schedule.Timesteps.Select(t => (long)t).ToArray());
        Assert.Equal(Case(name).GetProperty("timesteps").EnumerateArray().Select(t => t.GetInt64()), schedule.Timesteps.Select(t => (long)t));
        var sigmas = schedule switch
        {
            EulerSchedule euler => euler.Sigmas,
            DpmSolverSchedule dpm => dpm.Sigmas,
            _ => throw new InvalidOperationException(name),
        };
        var expectedSigmas = golden["sigmas"].data<float>().ToArray();
        Assert.Equal(expectedSigmas.Length, sigmas.Count);
        for (int i = 0; i < sigmas.Count; i++)
            Assert.True(Math.Abs(sigmas[i] - expectedSigmas[i]) <= 1e-6 * Math.Abs(expectedSigmas[i]), $"{name} sigma {i}: {sigmas[i]} vs {expectedSigmas[i]}");
        float initSigma = golden["init_noise_sigma"].item<float>();
        Assert.True(Math.Abs(schedule.InitNoiseSigma - initSigma) <= 1e-6 * initSigma, $"{name} init sigma {schedule.InitNoiseSigma} vs {initSigma}");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Stepping_the_reference_model_outputs_gives_the_reference_latents_of_every_step(string name)
    {
        using var scope = NewDisposeScope();
        var golden = SafetensorsFile.Load(Io(name));
        var schedule = Scheduler(name).CreateSchedule(Steps);
        var latents = golden["latents"] * schedule.InitNoiseSigma;
        for (int i = 0; i < Steps; i++)
        {
            latents = schedule.Step(i, golden[$"step{i}.eps"], latents).PrevSample;
            TensorAssert.CloseRelativeToMax(golden[$"step{i}.latents"], latents, 1e-5, $"{name} step {i} latents");
        }
        (schedule as IDisposable)?.Dispose();
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void The_loop_gives_the_reference_guided_output_and_latents_of_every_step(string name)
    {
        using var scope = NewDisposeScope();
        var golden = SafetensorsFile.Load(Io(name));
        using var model = StableDiffusionModel.Load(TestPaths.Golden("tiny_sd2"), ComputeOptions.Cpu);
        var prompts = new Dictionary<string, string>
        {
            [ClassifierFreeGuidance.PromptName] = "a sks dog in the snow",
            [ClassifierFreeGuidance.NegativeName] = "",
        };
        var recorder = new RecordingGuidance(new ClassifierFreeGuidance(7.5));
        using var run = new DenoisingRun(prompts, 2, [2, 4, 16, 16], 0);
        using var loop = new DenoisingLoop(model.AsDenoiser(), model.AsConditioner());
        var final = loop.Run(recorder, Scheduler(name), Steps, run, golden["latents"]);
        // Step i starts from the latents step i − 1 produced.
        var stepLatents = recorder.Inputs.Skip(1).Append(final).ToList();
        for (int i = 0; i < Steps; i++)
        {
            TensorAssert.CloseRelativeToMax(golden[$"step{i}.eps"], recorder.Outputs[i], 1e-4, $"{name} step {i} guided output");
            TensorAssert.CloseRelativeToMax(golden[$"step{i}.latents"], stepLatents[i], 1e-4, $"{name} step {i} latents");
        }
    }

    /// <summary>Classifier-free guidance that keeps each step's input latents and guided output.</summary>
    private sealed class RecordingGuidance(IGuidance inner) : IGuidance
    {
        public List<Tensor> Inputs { get; } = [];

        public List<Tensor> Outputs { get; } = [];

        public IReadOnlyList<Branch> Branches(StepContext step) => inner.Branches(step);

        public Tensor?[] Prepare(StepContext step, Tensor?[] latents, IBranchEvaluator evaluator)
        {
            Inputs.Add(latents[0]!.clone().DetachFromDisposeScope());
            return latents;
        }

        public Tensor?[] Combine(StepContext step, BranchPredictions predictions)
        {
            var combined = inner.Combine(step, predictions);
            Outputs.Add(combined[0]!.clone().DetachFromDisposeScope());
            return combined;
        }
    }
}
