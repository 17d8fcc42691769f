namespace PersonGen.Training;

/// <summary>Reported after each optimizer step.</summary>
public sealed record TrainingProgress(long Step, long TotalSteps, double Loss, double StepsPerSecond, string? CheckpointPath);
