namespace PersonGen.Diffusion;

/// <summary>Which weights a model runs with: the fine-tuned ones, or the original ones with every concept delta off.</summary>
public enum ModelWeights
{
    FineTuned,
    Original,
}

/// <summary>
/// One conditional branch of a denoising step: N rows of the UNet batch that see the latents of
/// <paramref name="Trajectory"/>, the text embedding of the prompt named <paramref name="Prompt"/> encoded with
/// <paramref name="TextEncoder"/> weights, and run through the UNet with <paramref name="Unet"/> weights.
/// </summary>
public sealed record Branch(
    string Prompt,
    int Trajectory = 0,
    ModelWeights TextEncoder = ModelWeights.FineTuned,
    ModelWeights Unet = ModelWeights.FineTuned)
{
    public override string ToString() =>
        $"{Prompt}@{Trajectory}" + (TextEncoder == ModelWeights.Original ? "/te-orig" : "") + (Unet == ModelWeights.Original ? "/unet-orig" : "");
}
