namespace PersonGen.Evaluation.Studies;

/// <summary>Generates the images of one study job (a diffusion pipeline, or a fake in tests).</summary>
public interface IStudyEngine
{
    /// <summary>
    /// Generates <see cref="StudyJob.ImagesPerPrompt"/> images for the job. Must be deterministic in the job so that a
    /// resumed or sharded run reproduces an uninterrupted one.
    /// </summary>
    StudyImages Generate(StudyJob job, CancellationToken cancellationToken);
}
