namespace PersonGen.Evaluation.Studies;

/// <summary>Per-image metrics, each in [0, 1] for the shapes world.</summary>
public sealed record ImageScore(double Identity, double Context);
