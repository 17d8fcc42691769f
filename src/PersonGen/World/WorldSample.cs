namespace PersonGen.World;

/// <summary>One training pair of the world: the scene to render and its caption (empty for unconditional samples).</summary>
public sealed record WorldSample(ShapeScene Scene, string Caption);
