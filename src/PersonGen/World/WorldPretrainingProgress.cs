namespace PersonGen.World;

/// <summary>Reported after every pretraining step.</summary>
/// <param name="Step">Steps done.</param>
/// <param name="Steps">Steps in the run.</param>
/// <param name="Loss">This step's v-prediction MSE.</param>
/// <param name="StepsPerSecond">Speed since this process started (or resumed).</param>
/// <param name="Checkpoint">The checkpoint folder written after this step, if any.</param>
public sealed record WorldPretrainingProgress(long Step, long Steps, double Loss, double StepsPerSecond, string? Checkpoint);
