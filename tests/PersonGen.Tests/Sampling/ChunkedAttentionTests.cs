using PersonGen.Sampling;
using PersonGen.Tests.Support;

namespace PersonGen.Tests.Sampling;

/// <summary>Probabilities computed in query chunks (to bound memory) change nothing a strategy sees.</summary>
public class ChunkedAttentionTests
{
    [Theory]
    [InlineData("masked:tsw=2,wc0=0,ws0=7,wc=3.5,ws=3.5,q=0.7")]
    [InlineData("photoswap:w=7,wref=7,sf=2,cm=4,sm=5")]
    public void Chunked_probabilities_give_the_same_latents_as_whole_ones(string spec)
    {
        using var whole = new TinyModelFixture();
        using var chunked = new TinyModelFixture();
        foreach (var layer in chunked.Model.Unet.AttentionLayers) layer.ProbabilityChunkElements = 2000; // several chunks per layer
        var strategy = StrategyRegistry.Parse(spec);
        using var expected = whole.Sampler.Sample(strategy, TinyModelFixture.Request, decode: false);
        using var actual = chunked.Sampler.Sample(strategy, TinyModelFixture.Request, decode: false);
        TensorAssert.CloseRelativeToMax(expected.Latents, actual.Latents, 1e-6, spec); // chunked matmuls round differently
    }
}
