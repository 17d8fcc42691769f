namespace PersonGen.World;

/// <summary>
/// Everything needed to render one image: the object's attributes, its background, and its placement.
/// <see cref="Size"/> is the object's bounding-box side as a fraction of the image side (about 0.5–0.72);
/// <see cref="CenterX"/>/<see cref="CenterY"/> are its centre in [0,1] image coordinates; <see cref="TextureSeed"/>
/// drives the background texture.
/// </summary>
public sealed record ShapeScene(
    ShapeKind Shape,
    ShapeColor Color,
    PatternKind Pattern,
    ShapeColor SecondColor,
    BackgroundKind Background,
    double Size,
    double CenterX,
    double CenterY,
    int TextureSeed)
{
    /// <summary>The object's colours: one for a solid object, two for a patterned one.</summary>
    public IReadOnlyList<ShapeColor> Colors => Pattern == PatternKind.Solid ? [Color] : [Color, SecondColor];
}
