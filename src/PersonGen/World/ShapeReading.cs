namespace PersonGen.World;

/// <summary>
/// What <see cref="ShapesAnalyzer"/> reads from an image. <see cref="Mask"/> is row-major, <see cref="Width"/>² long,
/// true on object pixels. When <see cref="HasObject"/> is false the object attributes are null.
/// <see cref="Colors"/> lists the object's colours, most frequent first (one for solid, two for patterned objects).
/// </summary>
public sealed record ShapeReading(
    BackgroundKind Background,
    int Width,
    bool[] Mask,
    ShapeKind? Shape,
    PatternKind? Pattern,
    IReadOnlyList<ShapeColor> Colors)
{
    public bool HasObject => Shape is not null;

    /// <summary>The dominant object colour, or null without an object.</summary>
    public ShapeColor? Color => Colors.Count > 0 ? Colors[0] : null;

    /// <summary>Number of object pixels.</summary>
    public int ObjectPixels => Mask.Count(m => m);
}
