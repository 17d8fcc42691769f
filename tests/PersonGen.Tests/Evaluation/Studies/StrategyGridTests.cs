using PersonGen.Evaluation.Studies;

namespace PersonGen.Tests.Evaluation.Studies;

public class StrategyGridTests
{
    [Fact]
    public void A_range_with_a_derived_parameter_expands_to_sorted_specs()
    {
        var specs = StrategyGrid.Expand("mixed:ws=0..7:0.5,wc=7-ws");
        Assert.Equal(15, specs.Count);
        Assert.Equal("mixed:wc=7,ws=0", specs[0]);
        Assert.Equal("mixed:wc=6.5,ws=0.5", specs[1]);
        Assert.Equal("mixed:wc=3.5,ws=3.5", specs[7]);
        Assert.Equal("mixed:wc=0,ws=7", specs[14]);
    }

    [Fact]
    public void Lists_ranges_words_and_arithmetic_combine()
    {
        Assert.Equal(["base:w=7"], StrategyGrid.Expand("base:w=7"));
        Assert.Equal(["superclass"], StrategyGrid.Expand("superclass"));
        Assert.Equal(["switching:tsw=1,w=7", "switching:tsw=3,w=7", "switching:tsw=10,w=7"], StrategyGrid.Expand("switching:w=7,tsw=1|3|10"));
        Assert.Equal(
            ["masked:q=0.3,source=concept,super=noft-te,ws=3.5", "masked:q=0.5,source=concept,super=noft-te,ws=3.5"],
            StrategyGrid.Expand("masked:q=0.3..0.5:0.2,ws=(1+6)/2,source=concept,super=noft-te"));
        Assert.Equal(["multistage:tsw=2,wc=4,ws=3", "multistage:tsw=4,wc=4,ws=3"], StrategyGrid.Expand("multistage:wc=4,ws=3,tsw=2..4:2"));
        Assert.Equal(["profusion:gr=7,r=0.1,wc=3.5,ws=3.5", "profusion:gr=7,r=0.2,wc=3.5,ws=3.5", "profusion:gr=7,r=0.3,wc=3.5,ws=3.5"],
            StrategyGrid.Expand("profusion:r=0.1..0.3:0.1,ws=3.5,wc=7-ws,gr=wc*2"));
    }

    [Theory]
    [InlineData("mixed:ws=0..7:0,wc=7-ws", "positive step")]
    [InlineData("mixed:ws=7..0", "ends before")]
    [InlineData("mixed:ws", "not key=value")]
    [InlineData("mixed:ws=1,ws=2", "twice")]
    [InlineData("mixed:wc=ws,ws=wc", "cycle")]
    [InlineData(":ws=1", "no valid name")]
    public void Bad_grids_fail_with_one_line_naming_the_problem(string spec, string expected)
    {
        var error = Assert.Throws<InvalidInputException>(() => StrategyGrid.Expand(spec));
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
