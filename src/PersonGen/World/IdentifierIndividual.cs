namespace PersonGen.World;

/// <summary>
/// A fixed individual of the base world named by a rare identifier token ("a photo of a xqz triangle on ocean"):
/// it always has the same shape, two-tone pattern and colours, and appears only on its own few backgrounds, so the
/// base model learns that "a &lt;id&gt; &lt;class&gt;" means one specific, context-tied object.
/// </summary>
public sealed record IdentifierIndividual(
    string Token,
    ShapeKind Shape,
    ShapeColor Color,
    PatternKind Pattern,
    ShapeColor SecondColor,
    IReadOnlyList<BackgroundKind> Backgrounds);
