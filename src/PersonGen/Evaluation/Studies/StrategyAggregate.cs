namespace PersonGen.Evaluation.Studies;

/// <summary>
/// One strategy spec's study means: identity and context averaged as the reference protocol does (images → prompt,
/// prompts → concept, concepts → study), cost in UNet rows per image (mean), and the number of images.
/// </summary>
public sealed record StrategyAggregate(string Strategy, string Family, double Identity, double Context, double RowsPerImage, int Images);
