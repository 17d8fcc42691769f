using PersonGen.Cli;
using PersonGen.Cli.Commands;
using PersonGen.IO;
using PersonGen.Runtime;
using PersonGen.Tests.Support;
using Spectre.Console.Testing;

namespace PersonGen.Tests.Cli;

public class CliTests
{
    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(Program.BuildRootCommand(), args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Theory]
    [InlineData("--help")]
    [InlineData("inspect", "--help")]
    [InlineData("inspect", "-h")]
    public void Help_is_available_everywhere(params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.Equal(0, code);
        Assert.Contains("Usage:", output);
        Assert.Empty(error);
    }

    [Fact]
    public void Version_prints_the_version()
    {
        var (code, output, _) = Run("--version");
        Assert.Equal(0, code);
        Assert.StartsWith("0.1.0", output.Trim());
    }

    [Theory]
    [InlineData("inspect")]
    [InlineData("inspect", "a.safetensors", "--write-sample", "b.safetensors")]
    [InlineData("inspect", "--no-such-option", "x")]
    [InlineData("no-such-command")]
    [InlineData("inspect", "x", "--device", "tpu")]
    public void Usage_errors_exit_2_with_one_error_line(params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.StartsWith("error: ", Assert.Single(Lines(error)));
    }

    [Fact]
    public void Inspect_lists_tensors_dtypes_shapes_and_metadata()
    {
        var (code, output, error) = Run("inspect", TestPaths.Golden("unet", "io.safetensors"));
        Assert.Equal(0, code);
        Assert.Empty(error);
        Assert.Matches(@"sample\s+F32\s+\[2, 4, 16, 16\]", output);
        Assert.Matches(@"timestep_scalar\s+I64\s+\[\]", output);
        var (_, weights, _) = Run("inspect", TestPaths.Golden("unet", "diffusion_pytorch_model.safetensors"));
        Assert.Contains("metadata format = pt", weights);
    }

    [Fact]
    public void Inspect_reads_pickle_checkpoints()
    {
        var (code, output, _) = Run("inspect", TestPaths.Golden("svdiff", "checkpoint-0", "unet.bin"));
        Assert.Equal(0, code);
        Assert.Contains("pytorch pickle", output);
        Assert.Matches(@"down_blocks\.0\.attentions\.0\.transformer_blocks\.0\.attn1\.to_q\.delta\s+F32", output);
    }

    [Fact]
    public void Inspect_lists_the_components_of_a_model_folder()
    {
        var (code, output, _) = Run("inspect", TestPaths.Golden("tiny_sd2"));
        Assert.Equal(0, code);
        Assert.Contains("unet: diffusers.UNet2DConditionModel", output);
        Assert.Contains("diffusion_pytorch_model.safetensors", output);
        Assert.Contains("safety_checker: (not used)", output);
    }

    [Fact]
    public void Inspect_of_a_model_folder_shows_classes_weights_parameter_counts_and_the_scheduler()
    {
        var (code, output, error) = Run("inspect", TestPaths.Golden("tiny_sd2"));
        Assert.Equal(0, code);
        Assert.Empty(error);
        Assert.Contains("model folder, StableDiffusionPipeline, diffusers 0.30.3", output);
        Assert.Matches(@"diffusion_pytorch_model\.safetensors\s+\S+ \S+, 217,772 parameters", output);
        Assert.Contains("1,597,162 parameters", output);
        Assert.Contains("scheduler_config.json: PNDMScheduler, beta_schedule scaled_linear, prediction_type epsilon, timestep_spacing (default)", output);
        Assert.Contains("files: vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json", output);

        string tiny = PersonGen.TestSupport.TinyModelFolder.Create(TestPaths.NewTempDirectory(), seed: 0);
        File.Delete(Path.Combine(tiny, "vae", "diffusion_pytorch_model.safetensors"));
        var (tinyCode, tinyOutput, tinyError) = Run("inspect", tiny);
        Assert.Equal(1, tinyCode); // a component that cannot load is a failure, shown first (issue 10 item 23)
        Assert.Contains("1 component(s) cannot be loaded", tinyError);
        Assert.Contains("scheduler_config.json: DDIMScheduler", tinyOutput);
        Assert.Contains("vae: diffusers.AutoencoderKL", tinyOutput);
        Assert.Contains("problem: ", tinyOutput);
    }

    [Fact]
    public void Write_sample_writes_a_valid_checkpoint_and_inspects_it()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "sample.safetensors");
        var (code, output, _) = Run("inspect", "--write-sample", path);
        Assert.Equal(0, code);
        Assert.Contains("5 tensors", output);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["F32", "F16", "BF16", "I64", "BOOL"], file.Entries.Select(e => e.DType));
        string again = Path.Combine(TestPaths.NewTempDirectory(), "sample.safetensors");
        InspectCommand.WriteSample(again);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    public static IEnumerable<object[]> MalformedNames => MalformedSafetensors.Names;

    [Theory]
    [MemberData(nameof(MalformedNames))]
    public void Inspect_of_a_malformed_file_exits_1_with_one_line_naming_the_problem(string name)
    {
        var malformed = MalformedSafetensors.Get(name);
        string path = MalformedSafetensors.Write(malformed, TestPaths.NewTempDirectory());
        var (code, output, error) = Run("inspect", path);
        Assert.Equal(1, code);
        Assert.Empty(output);
        string line = Assert.Single(Lines(error));
        Assert.StartsWith($"error: {path}: ", line);
        Assert.Contains(malformed.ExpectedProblem, line);
    }

    [Fact]
    public void Verbose_adds_the_stack_trace()
    {
        string path = MalformedSafetensors.Write(MalformedSafetensors.Get("bad_json"), TestPaths.NewTempDirectory());
        var (code, _, error) = Run("inspect", path, "--verbose");
        Assert.Equal(1, code);
        Assert.True(Lines(error).Length > 2);
        Assert.Contains("InvalidCheckpointException", error);
    }

    [Fact]
    public void Inspect_of_a_missing_file_exits_1()
    {
        var (code, _, error) = Run("inspect", "/no/such/file.safetensors");
        Assert.Equal(1, code);
        Assert.Equal("error: /no/such/file.safetensors: file not found", error.Trim());
    }

    [Fact]
    public void Progress_display_shows_each_stage_on_an_interactive_console()
    {
        var console = new TestConsole().Interactive();
        int result = ProgressDisplay.Run(console, progress =>
        {
            for (int i = 1; i <= 3; i++) progress.Report(new ProgressUpdate("denoising", i, 3));
            progress.Report(new ProgressUpdate("decoding", 1, 1));
            return 42;
        });
        Assert.Equal(42, result);
        Assert.Contains("denoising", console.Output);
        Assert.Contains("decoding", console.Output);
    }

    [Fact]
    public void Progress_display_runs_silently_when_not_interactive()
    {
        var console = new TestConsole();
        ProgressDisplay.Run(console, progress => progress.Report(new ProgressUpdate("denoising", 1, 2)));
        Assert.DoesNotContain("denoising", console.Output);
    }
}
