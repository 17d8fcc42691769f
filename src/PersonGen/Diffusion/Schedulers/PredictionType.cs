namespace PersonGen.Diffusion.Schedulers;

/// <summary>What the denoising model predicts (diffusers <c>prediction_type</c>).</summary>
public enum PredictionType
{
    /// <summary><c>epsilon</c>: the added noise ε.</summary>
    Epsilon,

    /// <summary><c>v_prediction</c>: v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans &amp; Ho 2022).</summary>
    VPrediction,

    /// <summary><c>sample</c>: the clean sample x₀ directly.</summary>
    Sample,
}
