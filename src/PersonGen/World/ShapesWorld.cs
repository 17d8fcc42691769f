namespace PersonGen.World;

/// <summary>
/// The built-in synthetic text-to-image world: deterministic (scene, caption) samples, identifier individuals,
/// held-out caption combinations and the built-in concepts. Sample <c>i</c> of seed <c>s</c> is always the same.
/// </summary>
public sealed class ShapesWorld
{
    /// <summary>Share of samples with an empty caption (for classifier-free guidance).</summary>
    public const double EmptyCaptionShare = 0.10;

    /// <summary>Share of samples that show an identifier individual.</summary>
    public const double IdentifierShare = 0.20;

    /// <summary>Share of other objects that are striped (in a second base colour); the rest are solid.</summary>
    public const double StripedShare = 0.15;

    /// <param name="imageSize">Image side in pixels (16 by default).</param>
    public ShapesWorld(int imageSize = 16)
    {
        Renderer = new ShapesRenderer(imageSize);
        HeldOut = BuildHeldOut();
    }

    public ShapesRenderer Renderer { get; }

    public int ImageSize => Renderer.ImageSize;

    /// <summary>The four identifier individuals (tokens xqz, vrb, plk, dwf).</summary>
    public static IReadOnlyList<IdentifierIndividual> Identifiers { get; } =
    [
        new("xqz", ShapeKind.Triangle, ShapeColor.Yellow, PatternKind.Checker, ShapeColor.Blue,
            [BackgroundKind.Ocean, BackgroundKind.Grass, BackgroundKind.Brick]),
        new("vrb", ShapeKind.Circle, ShapeColor.Red, PatternKind.Stripes, ShapeColor.Yellow,
            [BackgroundKind.Sand, BackgroundKind.Plum, BackgroundKind.Stone]),
        new("plk", ShapeKind.Cross, ShapeColor.Green, PatternKind.Checker, ShapeColor.Orange,
            [BackgroundKind.Rust, BackgroundKind.Ocean, BackgroundKind.Sand]),
        new("dwf", ShapeKind.Square, ShapeColor.Purple, PatternKind.Stripes, ShapeColor.Green,
            [BackgroundKind.Grass, BackgroundKind.Brick, BackgroundKind.Plum]),
    ];

    /// <summary>Built-in concepts, all with token <c>sks</c>; the first is the default (magenta/cyan checkered square on stone).</summary>
    public static IReadOnlyList<ShapesConcept> Concepts { get; } =
    [
        new("checker-square", "sks", ShapeKind.Square, ShapeColor.Magenta, PatternKind.Checker, ShapeColor.Cyan, BackgroundKind.Stone, 8),
        new("striped-circle", "sks", ShapeKind.Circle, ShapeColor.Cyan, PatternKind.Stripes, ShapeColor.Magenta, BackgroundKind.Sand, 6),
        new("checker-triangle", "sks", ShapeKind.Triangle, ShapeColor.Cyan, PatternKind.Checker, ShapeColor.Magenta, BackgroundKind.Grass, 6),
    ];

    /// <summary>Looks a built-in concept up by name.</summary>
    /// <exception cref="InvalidInputException">No built-in concept has that name.</exception>
    public static ShapesConcept Concept(string name) =>
        Concepts.FirstOrDefault(c => c.Name == name)
        ?? throw new InvalidInputException($"unknown shapes concept '{name}': use one of {string.Join(", ", Concepts.Select(c => c.Name))}");

    /// <summary>Colour/shape/background combinations that no training sample shows: one colour per (shape, background).</summary>
    public IReadOnlyList<HeldOutCombination> HeldOut { get; }

    /// <summary>The captions of <see cref="HeldOut"/>, e.g. "a photo of a red square on sand".</summary>
    public IReadOnlyList<string> HeldOutPrompts => HeldOut.Select(h => h.Prompt).ToArray();

    /// <summary>The <paramref name="count"/> samples starting at <paramref name="start"/> of the stream of <paramref name="seed"/>.</summary>
    public IEnumerable<WorldSample> Samples(int seed, long start, int count)
    {
        for (long i = start; i < start + count; i++) yield return Sample(seed, i);
    }

    /// <summary>Sample number <paramref name="index"/> of the stream of <paramref name="seed"/>; independent of any other call.</summary>
    public WorldSample Sample(int seed, long index)
    {
        var random = new Random(unchecked((int)(seed * 1_000_003L + index * 7_919L) ^ (int)(index >> 31)));
        bool empty = random.NextDouble() < EmptyCaptionShare;
        WorldSample sample = random.NextDouble() < IdentifierShare ? IdentifierSample(random) : ObjectSample(random);
        return empty ? sample with { Caption = "" } : sample;
    }

    private WorldSample IdentifierSample(Random random)
    {
        IdentifierIndividual who = Identifiers[random.Next(Identifiers.Count)];
        BackgroundKind background = who.Backgrounds[random.Next(who.Backgrounds.Count)];
        ShapeScene scene = Place(who.Shape, who.Color, who.Pattern, who.SecondColor, background, ImageSize, random);
        return new WorldSample(scene, Caption(random, [who.Token, ShapesPalette.Word(who.Shape)], background));
    }

    private WorldSample ObjectSample(Random random)
    {
        while (true)
        {
            var shape = (ShapeKind)random.Next(4);
            ShapeColor color = ShapesPalette.BaseColors[random.Next(ShapesPalette.BaseColors.Count)];
            var background = (BackgroundKind)random.Next(7);
            bool striped = random.NextDouble() < StripedShare;
            ShapeColor second = ShapesPalette.BaseColors[random.Next(ShapesPalette.BaseColors.Count)];
            if (IsHeldOut(color, shape, background) || (striped && second == color)) continue;
            ShapeScene scene = Place(shape, color, striped ? PatternKind.Stripes : PatternKind.Solid, second, background, ImageSize, random);
            var words = new List<string>();
            if (random.NextDouble() < 0.85) words.Add(ShapesPalette.Word(color));
            if (striped && random.NextDouble() < 0.8) words.Insert(0, ShapesPalette.Word(PatternKind.Stripes));
            words.Add(ShapesPalette.Word(shape));
            return new WorldSample(scene, Caption(random, words, background));
        }
    }

    // "a photo of a <words> on <background>", with the prefix shortened and the background dropped at random.
    private static string Caption(Random random, IReadOnlyList<string> objectWords, BackgroundKind background)
    {
        string prefix = random.NextDouble() < 0.7 ? "a photo of a" : "a";
        string where = random.NextDouble() < 0.8 ? " on " + ShapesPalette.Word(background) : "";
        return $"{prefix} {string.Join(' ', objectWords)}{where}";
    }

    private bool IsHeldOut(ShapeColor color, ShapeKind shape, BackgroundKind background) =>
        HeldOut.Contains(new HeldOutCombination(color, shape, background));

    private static HeldOutCombination[] BuildHeldOut() =>
        (from shape in Enum.GetValues<ShapeKind>()
         from background in Enum.GetValues<BackgroundKind>()
         select new HeldOutCombination(
             ShapesPalette.BaseColors[((int)shape * 5 + (int)background * 3) % ShapesPalette.BaseColors.Count], shape, background))
        .ToArray();

    /// <summary>
    /// Places an object with jittered size (0.5–0.72 of the image) and position, keeping a one-pixel clear border
    /// so the analyzer can read the background from the image's edge.
    /// </summary>
    public static ShapeScene Place(ShapeKind shape, ShapeColor color, PatternKind pattern, ShapeColor second,
        BackgroundKind background, int imageSize, Random random)
    {
        double size = 0.5 + 0.22 * random.NextDouble();
        double margin = size / 2 + 1.0 / imageSize;
        double cx = margin + (1 - 2 * margin) * random.NextDouble();
        double cy = margin + (1 - 2 * margin) * random.NextDouble();
        return new ShapeScene(shape, color, pattern, second, background, size, cx, cy, random.Next());
    }
}
