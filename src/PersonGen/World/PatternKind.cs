namespace PersonGen.World;

/// <summary>How the object is filled: one colour, or two colours in horizontal stripes or a checkerboard.</summary>
public enum PatternKind
{
    Solid,
    Stripes,
    Checker,
}
