using SkiaSharp;

namespace PersonGen.World;

/// <summary>RGB values and caption words of the world's colours, patterns, shapes and backgrounds.</summary>
public static class ShapesPalette
{
    private static readonly SKColor[] ObjectColors =
    [
        new(225, 30, 30),    // red
        new(40, 200, 50),    // green
        new(40, 70, 240),    // blue
        new(245, 225, 30),   // yellow
        new(150, 40, 205),   // purple
        new(250, 140, 10),   // orange
        new(245, 40, 200),   // magenta
        new(30, 225, 235),   // cyan
    ];

    private static readonly SKColor[] BackgroundColors =
    [
        new(128, 128, 128),  // stone
        new(20, 60, 95),     // ocean
        new(215, 195, 150),  // sand
        new(75, 115, 40),    // grass
        new(140, 60, 55),    // brick
        new(85, 35, 75),     // plum
        new(165, 95, 45),    // rust
    ];

    /// <summary>The colours that base-world captions use (not the concept-only magenta and cyan).</summary>
    public static IReadOnlyList<ShapeColor> BaseColors { get; } =
        [ShapeColor.Red, ShapeColor.Green, ShapeColor.Blue, ShapeColor.Yellow, ShapeColor.Purple, ShapeColor.Orange];

    public static SKColor Rgb(ShapeColor color) => ObjectColors[(int)color];

    public static SKColor Rgb(BackgroundKind background) => BackgroundColors[(int)background];

    public static string Word(ShapeColor color) => color.ToString().ToLowerInvariant();

    public static string Word(ShapeKind shape) => shape.ToString().ToLowerInvariant();

    public static string Word(BackgroundKind background) => background.ToString().ToLowerInvariant();

    /// <summary>The adjective used in captions ("striped", "checkered"); empty for solid objects.</summary>
    public static string Word(PatternKind pattern) => pattern switch
    {
        PatternKind.Stripes => "striped",
        PatternKind.Checker => "checkered",
        _ => "",
    };
}
