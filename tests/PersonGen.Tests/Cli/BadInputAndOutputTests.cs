using PersonGen.IO;
using PersonGen.Tests.Support;
using static TorchSharp.torch;

namespace PersonGen.Tests.Cli;

/// <summary>Bad inputs and unwritable outputs end in one line naming the thing and the fix, before any long work (issue 10).</summary>
public sealed class BadInputAndOutputTests
{
    private static string Tiny => TestPaths.Golden("tiny_sd2");

    private static string[] Generate(params string[] extra) =>
        ["generate", "--model", Tiny, "--prompt", "a sks dog in the snow", "--steps", "2", "--seed", "3", .. extra];

    private static string OneErrorLine((int Code, string Output, string Error) run)
    {
        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Error}");
        string line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.DoesNotContain("unexpected", line);
        return line;
    }

    [Fact]
    public void Generate_in_batches_writes_every_image_once_and_equals_the_unbatched_run()
    {
        string whole = TestPaths.NewTempDirectory(), batched = TestPaths.NewTempDirectory();
        CliRunner.RunOk(Generate("-n", "5", "--out", whole, "--latents-out", Path.Combine(whole, "latents.safetensors")));
        string output = CliRunner.RunOk(Generate("-n", "5", "--batch-size", "2", "--out", batched, "--latents-out", Path.Combine(batched, "latents.safetensors")));
        Assert.Contains("wrote 5 image(s)", output);
        Assert.Equal(["0.png", "1.png", "2.png", "3.png", "4.png"], Directory.GetFiles(batched, "*.png").Select(Path.GetFileName).Order());
        using var expected = SafetensorsFile.Load(Path.Combine(whole, "latents.safetensors"))["latents"];
        using var actual = SafetensorsFile.Load(Path.Combine(batched, "latents.safetensors"))["latents"];
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(5, actual.shape[0]);
        Assert.True((expected - actual).abs().max().item<float>() <= 1e-5f, "batched latents differ from the unbatched run");
        // The images differ from each other (each slice got its own rows of x_T, not the first slice's again).
        Assert.True((actual[0] - actual[2]).abs().max().item<float>() > 1e-3f);
        foreach (int i in Enumerable.Range(0, 5))
        {
            using var a = ImageIO.Load(Path.Combine(whole, $"{i}.png"));
            using var b = ImageIO.Load(Path.Combine(batched, $"{i}.png"));
            // Latents agree to float rounding (batch size changes the kernels' blocking), so a pixel may round one level off.
            Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
            Assert.True(a.Bytes.Zip(b.Bytes, (x, y) => Math.Abs(x - y)).Max() <= 1, $"{i}.png differs");
        }
    }

    [Fact]
    public void A_height_beyond_the_limit_and_a_batch_size_below_one_are_one_line_each()
    {
        Assert.Contains("exceeds the limit of 4096 pixels a side", OneErrorLine(CliRunner.Run(Generate("--height", "100000", "--out", TestPaths.NewTempDirectory()))));
        Assert.Contains("--batch-size 0 must be at least 1", OneErrorLine(CliRunner.Run(Generate("--batch-size", "0", "--out", TestPaths.NewTempDirectory()))));
    }

    [Fact]
    public void An_output_folder_that_is_a_file_names_the_file()
    {
        string file = Path.Combine(TestPaths.NewTempDirectory(), "taken");
        File.WriteAllText(file, "");
        Assert.Contains($"{file}: is a file, not a folder", OneErrorLine(CliRunner.Run(Generate("--out", file))));
        Assert.Contains($"{file}: is a file, not a folder", OneErrorLine(CliRunner.Run(Generate("--out", Path.Combine(file, "below")))));
        Assert.Contains($"{file}: is a file, not a folder", OneErrorLine(CliRunner.Run(
            "train", "--method", "lora", "--model", Tiny, "--images", TestPaths.NewTempDirectory(), "--token", "sks", "--class", "dog", "--steps", "1", "--out", file)));
    }

    [Fact]
    public void A_latents_file_that_is_a_folder_names_the_folder()
    {
        string folder = TestPaths.NewTempDirectory();
        Assert.Contains($"{folder}: is a folder: give a file path", OneErrorLine(CliRunner.Run(Generate("--no-decode", "--latents-out", folder))));
    }

    [Fact]
    public void A_read_only_output_folder_says_it_is_not_writable()
    {
        // Tests may run as root, for whom chmod'ed folders stay writable; sysfs refuses new files even to root.
        string target = "/sys/kernel/persongen-test-out";
        Assert.Contains($"{target}: is not writable", OneErrorLine(CliRunner.Run(Generate("--out", target))));
    }

    [Fact]
    public void An_output_name_too_long_for_the_file_system_says_so()
    {
        string tooLong = Path.Combine(TestPaths.NewTempDirectory(), new string('a', 300));
        Assert.Contains("is too long for the file system", OneErrorLine(CliRunner.Run(Generate("--out", tooLong))));
    }

    [Theory]
    [InlineData("--steps", "0", "--steps 0 must be at least 1")]
    [InlineData("--finetune-steps", "0", "--finetune-steps 0 must be at least 1")]
    [InlineData("--class-images", "-1", "--class-images -1 must not be negative")]
    [InlineData("--images-per-prompt", "0", "--images-per-prompt 0 must be at least 1")]
    [InlineData("--strategy", "mixed:wc=abc", "abc")]
    [InlineData("--strategy", "switching:w=7,tsw=40", "tsw")]
    public void Demo_refuses_bad_options_before_fine_tuning(string option, string value, string expected)
    {
        string outDir = TestPaths.NewTempDirectory();
        Assert.Contains(expected, OneErrorLine(CliRunner.Run("demo", "--out", outDir, option, value)));
        Assert.False(Directory.Exists(Path.Combine(outDir, "concept")), "the demo started fine-tuning before checking its options");
    }

    [Fact]
    public void Inspect_of_a_model_folder_with_broken_weights_shows_the_problem_and_exits_1()
    {
        string tiny = PersonGen.TestSupport.TinyModelFolder.Create(TestPaths.NewTempDirectory(), seed: 0);
        File.WriteAllText(Path.Combine(tiny, "vae", "diffusion_pytorch_model.safetensors"), "not safetensors");
        var (code, output, error) = CliRunner.Run("inspect", tiny);
        Assert.Equal(1, code);
        Assert.Contains("problem: ", output);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"error: {tiny}: 1 component(s) cannot be loaded (see 'problem:' above): replace or repair their files", line);
    }

    [Fact]
    public void World_evaluate_refuses_a_model_without_the_world_tokenizer_up_front()
    {
        string line = OneErrorLine(CliRunner.Run("world", "evaluate", "--model", Tiny));
        Assert.Contains("is not a built-in world model", line);
        Assert.Contains("persongen world pretrain", line);
    }
}
