namespace PersonGen.World;

/// <summary>Backgrounds, each named by a caption word that is never a colour word.</summary>
public enum BackgroundKind
{
    Stone,
    Ocean,
    Sand,
    Grass,
    Brick,
    Plum,
    Rust,
}
