using PersonGen.Sampling;
using PersonGen.Sampling.Strategies;

namespace PersonGen.Tests.Sampling;

public class StrategySpecTests
{
    [Theory]
    [InlineData("base:w=7", "base:w=7")]
    [InlineData("mixed:wc=3.5,ws=3.5", "mixed:wc=3.5,ws=3.5")]
    [InlineData("mixed", "mixed:wc=3.5,ws=3.5")]
    [InlineData("switching:w=7,tsw=7", "switching:w=7,tsw=7")]
    [InlineData("multistage:wc=4,ws=3,tsw=10", "multistage:wc=4,ws=3,tsw=10")]
    [InlineData("masked:tsw=3,wc0=0,ws0=7,wc=3.5,ws=3.5,q=0.7,source=concept", "masked:tsw=3,wc0=0,ws0=7,wc=3.5,ws=3.5,q=0.7,source=concept")]
    [InlineData("profusion:wc=3.5,ws=3.5,r=1,gr=7", "profusion:wc=3.5,ws=3.5,r=1,gr=7")]
    [InlineData("photoswap:w=7,wref=7,sf=5,cm=15,sm=20", "photoswap:w=7,wref=7,sf=5,cm=15,sm=20")]
    [InlineData("photoswap:w=7,wref=7,sf=1,cm=3,sm=4,align=reference", "photoswap:w=7,wref=7,sf=1,cm=3,sm=4,align=reference")]
    [InlineData("Mixed: ws=0.5 , wc=6.5,super=noft", "mixed:wc=6.5,ws=0.5,super=noft")]
    [InlineData("superclass:w=7,super=noft-te", "superclass:w=7,super=noft-te")]
    [InlineData("mixed:wc=3.5,ws=3.5,super=empty", "mixed:wc=3.5,ws=3.5,super=empty")]
    public void A_spec_parses_to_a_strategy_whose_canonical_spec_round_trips(string spec, string canonical)
    {
        var strategy = StrategyRegistry.Parse(spec);
        Assert.Equal(canonical, strategy.Spec);
        Assert.Equal(strategy, StrategyRegistry.Parse(strategy.Spec));
    }

    [Theory]
    [InlineData("blend:w=7", "unknown strategy 'blend'")]
    [InlineData("mixed:wc=3.5,wx=1", "unknown parameter 'wx'")]
    [InlineData("mixed:wc=-1", "outside [0, ∞]")]
    [InlineData("masked:q=1.5", "outside [0, 1]")]
    [InlineData("switching:tsw=2.5", "whole number")]
    [InlineData("mixed:wc=abc", "not a number")]
    [InlineData("mixed:wc", "not key=value")]
    [InlineData("mixed:super=original", "not one of finetuned|noft|noft-te|empty")]
    [InlineData("base:super=noft", "unknown parameter 'super'")]
    [InlineData("mixed:wc=3.5,,", "empty item")] // issue 10, item 13
    [InlineData("mixed:,wc=3.5", "empty item")]
    [InlineData("mixed:wc=1,wc=2", "'wc' is given twice")]
    [InlineData("mixed:wc=1,WC=2", "'wc' is given twice")]
    [InlineData("photoswap:sf=1,cm=3,sm=4,super=noft", "cannot use super=noft")] // issue 10, item 1
    public void A_bad_spec_gives_one_clear_line(string spec, string expected)
    {
        var error = Assert.Throws<InvalidInputException>(() => StrategyRegistry.Parse(spec));
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_photoswap_built_in_code_with_noft_is_refused_before_sampling()
    {
        var strategy = new PhotoswapStrategy(7, 7, 1, 3, 4, Super: SuperclassVariant.NoFT);
        var error = Assert.Throws<InvalidInputException>(() => strategy.Validate(6));
        Assert.Contains("super=noft", error.Message);
    }

    [Fact]
    public void A_switch_step_beyond_the_step_count_is_refused()
    {
        var strategy = StrategyRegistry.Parse("switching:w=7,tsw=60");
        var error = Assert.Throws<InvalidInputException>(() => strategy.Validate(50));
        Assert.Contains("tsw=60", error.Message);
    }

    [Fact]
    public void Parsed_values_reach_the_strategy()
    {
        var masked = Assert.IsType<MaskedStrategy>(StrategyRegistry.Parse("masked:tsw=2,q=0.3,source=reference"));
        Assert.Equal(2, masked.SwitchStep);
        Assert.Equal(0.3, masked.Quantile);
        Assert.Equal(MaskSource.Reference, masked.Source);
    }
}
