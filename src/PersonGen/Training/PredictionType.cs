namespace PersonGen.Training;

/// <summary>What the UNet is trained to predict.</summary>
public enum PredictionType
{
    /// <summary>The added noise ε (SD 2 base).</summary>
    Epsilon,
    /// <summary>v = √ᾱ·ε − √(1−ᾱ)·x₀ (SD 2 768-v).</summary>
    VPrediction,
}
