namespace PersonGen.Evaluation;

/// <summary>A labelled point of a fidelity/editability plane: <see cref="Context"/> on x, <see cref="Identity"/> on y.</summary>
public sealed record ParetoPoint(string Label, double Context, double Identity);
