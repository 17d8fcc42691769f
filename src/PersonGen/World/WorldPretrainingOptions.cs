namespace PersonGen.World;

/// <summary>
/// Settings of <see cref="WorldPretraining"/>: v-prediction MSE on DDPM-noised world samples, AdamW
/// (β₁ <see cref="Beta1"/>, β₂ <see cref="Beta2"/>, weight decay <see cref="WeightDecay"/>), linear warm-up,
/// gradient clipping and an EMA of the weights (diffusers' warm-up rule: decay min(d, (1+n)/(10+n))).
/// </summary>
public sealed record WorldPretrainingOptions
{
    public int Steps { get; init; } = 1200;
    public int BatchSize { get; init; } = 64;
    public int Seed { get; init; }
    public double LearningRate { get; init; } = 1e-3;
    public int WarmupSteps { get; init; } = 100;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.99;
    public double WeightDecay { get; init; } = 0.01;
    public double MaxGradNorm { get; init; } = 1.0;
    public double EmaDecay { get; init; } = 0.995;

    /// <summary>Steps between resumable checkpoints (0: only the final one).</summary>
    public int CheckpointEvery { get; init; } = 100;

    /// <summary>Side of the world's images in pixels.</summary>
    public int ImageSize { get; init; } = 16;

    /// <summary>Checks ranges.</summary>
    /// <exception cref="InvalidInputException">Names the first invalid setting and its valid range.</exception>
    public WorldPretrainingOptions Validate()
    {
        if (Steps < 0) throw new InvalidInputException($"--steps {Steps} must not be negative");
        if (BatchSize < 1) throw new InvalidInputException($"--batch-size {BatchSize} must be at least 1");
        if (!(LearningRate > 0)) throw new InvalidInputException($"learning rate {LearningRate} must be positive");
        if (WarmupSteps < 0) throw new InvalidInputException($"warm-up steps {WarmupSteps} must not be negative");
        if (CheckpointEvery < 0) throw new InvalidInputException($"--checkpoint-every {CheckpointEvery} must not be negative");
        if (EmaDecay is < 0 or >= 1) throw new InvalidInputException($"EMA decay {EmaDecay} must lie in [0, 1)");
        if (ImageSize < 8 || ImageSize % 4 != 0) throw new InvalidInputException($"image size {ImageSize} must be a multiple of 4 and at least 8");
        return this;
    }
}
