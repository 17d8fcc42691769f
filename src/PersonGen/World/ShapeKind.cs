namespace PersonGen.World;

/// <summary>The four bold shapes of the built-in world; the caption word is the lower-case name.</summary>
public enum ShapeKind
{
    Circle,
    Square,
    Triangle,
    Cross,
}
