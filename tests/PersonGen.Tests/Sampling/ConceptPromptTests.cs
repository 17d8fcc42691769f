using PersonGen.Sampling;

namespace PersonGen.Tests.Sampling;

public class ConceptPromptTests
{
    [Theory]
    [InlineData("a {} in the snow")]
    [InlineData("a {0} in the snow")]
    [InlineData("a sks dog in the snow")]
    public void A_template_or_a_concept_prompt_gives_the_three_branch_prompts(string prompt)
    {
        var parsed = ConceptPrompt.Parse(prompt, "sks", "dog");
        Assert.Equal("a sks dog in the snow", parsed.Concept);
        Assert.Equal("a dog in the snow", parsed.Superclass);
        Assert.Equal("a  in the snow", parsed.Empty);
    }

    [Theory]
    [InlineData("a {0} in the snow", 0, 1512)] // golden/strategies: generator seed 1512
    [InlineData("a {} in the jungle", 0, 1702)] // reference-spec §2.0 examples
    [InlineData("a photo of a {}", 0, 1385)]
    [InlineData("a red {}", 0, 772)]
    [InlineData("a {} wearing a red hat", 5, 2036)]
    public void The_noise_seed_is_the_reference_template_rule(string template, long seed, long expected) =>
        Assert.Equal(expected, ConceptPrompt.Parse(template, "sks", "dog").NoiseSeed(seed));

    [Fact]
    public void A_prompt_without_slot_or_placeholder_is_refused_with_the_fix()
    {
        var error = Assert.Throws<InvalidInputException>(() => ConceptPrompt.Parse("a dog in the snow", "sks", "dog"));
        Assert.Contains("sks dog", error.Message);
        Assert.Contains("{}", error.Message);
    }

    [Fact]
    public void An_empty_class_word_is_refused() =>
        Assert.Contains("`class`", Assert.Throws<InvalidInputException>(() => ConceptPrompt.Parse("a {}", "sks", " ")).Message);
}
