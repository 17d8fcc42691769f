namespace PersonGen.Training;

/// <summary>A resumable checkpoint folder of <see cref="ConceptTrainer"/>: where it is, its step and the settings its run recorded.</summary>
public sealed record TrainerCheckpoint(string Directory, long Step, IReadOnlyDictionary<string, string> Settings);
