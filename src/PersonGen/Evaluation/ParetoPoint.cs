namespace PersonGen.Evaluation;

/// <summary>A labelled point of a plane whose two axes are both maximised: <see cref="X"/> and <see cref="Y"/>.</summary>
public sealed record ParetoPoint(string Label, double X, double Y);
