namespace PersonGen.World;

/// <summary>Object colours. The first six appear in base-world captions; magenta and cyan exist only for concepts.</summary>
public enum ShapeColor
{
    Red,
    Green,
    Blue,
    Yellow,
    Purple,
    Orange,
    Magenta,
    Cyan,
}
