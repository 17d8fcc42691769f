namespace PersonGen.World;

/// <summary>A (colour, shape, background) combination that training samples never show, for measuring generalisation.</summary>
public sealed record HeldOutCombination(ShapeColor Color, ShapeKind Shape, BackgroundKind Background)
{
    /// <summary>The full caption, e.g. "a photo of a red square on sand".</summary>
    public string Prompt =>
        $"a photo of a {ShapesPalette.Word(Color)} {ShapesPalette.Word(Shape)} on {ShapesPalette.Word(Background)}";
}
