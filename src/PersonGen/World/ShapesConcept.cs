namespace PersonGen.World;

/// <summary>
/// A built-in personalisation concept: an object the base world never shows (concept-only colours on a pattern),
/// taught by <see cref="RenderCount"/> renders that all share one <see cref="Background"/>.
/// </summary>
public sealed record ShapesConcept(
    string Name,
    string Token,
    ShapeKind Shape,
    ShapeColor Color,
    PatternKind Pattern,
    ShapeColor SecondColor,
    BackgroundKind Background,
    int RenderCount)
{
    /// <summary>The superclass word, e.g. "square".</summary>
    public string ClassWord => ShapesPalette.Word(Shape);

    /// <summary>The fine-tuning caption, e.g. "a photo of a sks square".</summary>
    public string TrainingPrompt => $"a photo of a {Token} {ClassWord}";

    /// <summary>The concept's colours (both for a patterned concept).</summary>
    public IReadOnlyList<ShapeColor> Colors => Pattern == PatternKind.Solid ? [Color] : [Color, SecondColor];

    /// <summary>Evaluation templates in the fine-tune template, one per other background: "a photo of a {} on sand".</summary>
    public IReadOnlyList<string> ContextPromptTemplates =>
        Enum.GetValues<BackgroundKind>().Where(b => b != Background)
            .Select(b => "a photo of a {} on " + ShapesPalette.Word(b)).ToArray();

    /// <summary>The training scenes: the same object with jittered size and position on its fixed background.</summary>
    public IReadOnlyList<ShapeScene> TrainingScenes(int imageSize, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, RenderCount)
            .Select(_ => ShapesWorld.Place(Shape, Color, Pattern, SecondColor, Background, imageSize, random))
            .ToArray();
    }

    /// <summary>The concept placed on another background (for references and fake engines).</summary>
    public ShapeScene SceneOn(BackgroundKind background, int imageSize, Random random) =>
        ShapesWorld.Place(Shape, Color, Pattern, SecondColor, background, imageSize, random);
}
