using PersonGen.Diffusion.Schedulers;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// One unit of study work: <see cref="ImagesPerPrompt"/> images of one strategy spec, concept, prompt template and
/// seed. <see cref="Key"/> identifies it across runs, shards and merges.
/// </summary>
public sealed record StudyJob(string Strategy, StudyConcept Concept, string PromptTemplate, int Seed, int ImagesPerPrompt, int Steps)
{
    /// <summary>The study's scheduler (part of the study fingerprint, so not of <see cref="Key"/>).</summary>
    public SchedulerChoice Scheduler { get; init; } = SchedulerChoice.Default;

    /// <summary><c>strategy|concept|template|seed</c>, e.g. <c>base:w=7|checker-square|a photo of a {} on sand|0</c>.</summary>
    public string Key => $"{Strategy}|{Concept.Name}|{PromptTemplate}|{Seed}";

    /// <summary>The strategy name before the colon (<c>mixed</c> for <c>mixed:wc=3.5,ws=3.5</c>).</summary>
    public string Family => Strategy.Split(':')[0];

    /// <summary>The template filled with the concept: "a photo of a sks square on sand".</summary>
    public string ConceptPrompt => PromptTemplate.Replace("{}", $"{Concept.Token} {Concept.ClassWord}");

    /// <summary>The template filled with the class word only: "a photo of a square on sand".</summary>
    public string SuperclassPrompt => PromptTemplate.Replace("{}", Concept.ClassWord);
}
