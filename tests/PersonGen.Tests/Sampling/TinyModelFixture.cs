using PersonGen.Diffusion;
using PersonGen.Runtime;
using PersonGen.Sampling;
using PersonGen.Tests.Support;
using PersonGen.Training;

namespace PersonGen.Tests.Sampling;

/// <summary>golden/tiny_sd2 with the golden SVDiff concept applied, loaded once for a test class.</summary>
public sealed class TinyModelFixture : IDisposable
{
    public TinyModelFixture()
    {
        Model = StableDiffusionModel.Load(TestPaths.Golden("tiny_sd2"), ComputeOptions.Cpu);
        using var checkpoint = ConceptCheckpoint.Load(TestPaths.Golden("svdiff", "checkpoint-0"));
        Model.Concept = checkpoint.ApplyTo(new ConceptModel(Model.Unet, Model.TextEncoder, new TokenizerVocabulary(Model.Tokenizer)));
        Sampler = new PersonalizedSampler(Model);
    }

    public StableDiffusionModel Model { get; }

    public PersonalizedSampler Sampler { get; }

    public const int Steps = 6;

    public static SamplingRequest Request { get; } = new()
    {
        Prompt = ConceptPrompt.Parse("a {} in the snow", "sks", "dog"),
        Steps = Steps,
        ImageCount = 2,
    };

    public void Dispose()
    {
        Sampler.Dispose();
        Model.Dispose();
    }
}
