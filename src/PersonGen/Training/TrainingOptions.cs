namespace PersonGen.Training;

/// <summary>
/// Optimizer and loop settings. AdamW (betas, eps, decoupled weight decay) with the delta's parameter groups;
/// constant learning rate after a linear warm-up of <see cref="WarmupSteps"/> (factor step/warmup, as diffusers'
/// constant_with_warmup); gradients clipped to <see cref="MaxGradNorm"/> (≤ 0: off); <see cref="GradientAccumulation"/>
/// micro-batches per step; a resumable checkpoint every <see cref="CheckpointEvery"/> steps (0: only at the end).
/// </summary>
public sealed record TrainingOptions
{
    public required long Steps { get; init; }
    public long Seed { get; init; }
    public int GradientAccumulation { get; init; } = 1;
    public double MaxGradNorm { get; init; } = 1.0;
    public int WarmupSteps { get; init; }
    public int CheckpointEvery { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Multiplies every group's learning rate (e.g. a user's --lr over the method default).</summary>
    public double LearningRateScale { get; init; } = 1.0;
    /// <summary>The run's settings, recorded in each checkpoint's trainer.json so a resume can be checked against them.</summary>
    public IReadOnlyDictionary<string, string> RunSettings { get; init; } = new Dictionary<string, string>();
}
