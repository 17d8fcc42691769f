using PersonGen.Diffusion;
using PersonGen.Sampling;
using PersonGen.Tests.Support;

namespace PersonGen.Tests.Cli;

/// <summary>Issue 11, item 5: library errors name the field (a study file's "steps"), the CLI shows its flag.</summary>
public class FieldNameMessageTests
{
    [Fact]
    public void Library_errors_name_fields_not_flags()
    {
        var request = new GenerationRequest { Prompt = "a dog", Steps = 0 };
        var error = Assert.Throws<InvalidInputException>(request.Validate);
        Assert.StartsWith("`steps` must be at least 1", error.Message);
        var count = Assert.Throws<InvalidInputException>((request with { Steps = 1, ImageCount = 0 }).Validate);
        Assert.StartsWith("`image_count` must be at least 1", count.Message);
        Assert.DoesNotContain("--", Assert.Throws<InvalidInputException>(() => ConceptPrompt.Parse("a {}", "", "dog")).Message);
    }

    [Fact]
    public void The_cli_shows_the_fields_as_its_flags()
    {
        var (code, _, error) = CliRunner.Run("generate", "--model", TestPaths.Golden("tiny_sd2"), "--prompt", "a dog", "--steps", "0", "--out", TestPaths.NewTempDirectory());
        Assert.Equal(1, code);
        Assert.Equal("error: --steps must be at least 1 (got 0)", error.Trim());
        (code, _, error) = CliRunner.Run("generate", "--model", TestPaths.Golden("tiny_sd2"), "--prompt", "a dog", "-n", "0", "--out", TestPaths.NewTempDirectory());
        Assert.Equal("error: -n must be at least 1 (got 0)", error.Trim());
    }
}
