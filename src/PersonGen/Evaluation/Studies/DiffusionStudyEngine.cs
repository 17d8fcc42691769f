using PersonGen.Diffusion;
using PersonGen.IO;
using PersonGen.Runtime;
using PersonGen.Sampling;
using PersonGen.Training;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// Generates a study job's images with the real pipeline: the base model with the job's concept applied (one model per
/// concept, loaded on first use), the job's strategy spec, and the reference seed rule, so every strategy of a
/// (concept, prompt, seed) starts from the same noise.
/// </summary>
public sealed class DiffusionStudyEngine(string baseModel, ComputeOptions compute) : IStudyEngine, IDisposable
{
    private readonly Dictionary<string, (StableDiffusionModel Model, PersonalizedSampler Sampler)> _loaded = new(StringComparer.Ordinal);

    public StudyImages Generate(StudyJob job, CancellationToken cancellationToken)
    {
        var sampler = SamplerFor(job.Concept);
        var request = new SamplingRequest
        {
            Prompt = ConceptPrompt.Parse(job.PromptTemplate, job.Concept.Token, job.Concept.ClassWord),
            Steps = job.Steps,
            Seed = job.Seed,
            ImageCount = job.ImagesPerPrompt,
            Scheduler = job.Scheduler,
        };
        using var result = sampler.Sample(StrategyRegistry.Parse(job.Strategy), request, cancellation: cancellationToken);
        return new StudyImages(ImageIO.FromTensor(result.Images!), result.RowsPerImage);
    }

    private PersonalizedSampler SamplerFor(StudyConcept concept)
    {
        if (_loaded.TryGetValue(concept.Name, out var loaded)) return loaded.Sampler;
        var model = StableDiffusionModel.Load(baseModel, compute);
        if (concept.Checkpoint is { } path)
        {
            using var checkpoint = ConceptCheckpoint.Load(path);
            model.Concept = checkpoint.ApplyTo(new ConceptModel(model.Unet, model.TextEncoder, new TokenizerVocabulary(model.Tokenizer)));
        }
        var sampler = new PersonalizedSampler(model);
        _loaded[concept.Name] = (model, sampler);
        return sampler;
    }

    public void Dispose()
    {
        foreach (var (model, sampler) in _loaded.Values)
        {
            sampler.Dispose();
            model.Dispose();
        }
        _loaded.Clear();
    }
}
