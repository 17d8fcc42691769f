namespace PersonGen.World;

/// <summary>One generated image of a held-out prompt and which of its attributes the analyzer read correctly.</summary>
public sealed record WorldAccuracyRow(HeldOutCombination Wanted, bool Background, bool Shape, bool Color);
