namespace PersonGen.Evaluation.Studies;

/// <summary>
/// One strategy spec's study means: each metric (<see cref="Values"/>, by name) averaged as the reference protocol
/// does (images → prompt, prompts → concept, concepts → study), cost in UNet rows per image (mean), the number of
/// images, and whether the spec is on the study's Pareto front.
/// </summary>
public sealed record StrategyAggregate(string Strategy, string Family, IReadOnlyDictionary<string, double> Values, double RowsPerImage, int Images, bool OnFront);
