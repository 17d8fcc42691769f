namespace PersonGen.World;

/// <summary>
/// The context attributes a shapes-world prompt asks for (the CLIP-T analogue checks these): background word,
/// base colour word and pattern word. Shape words are identity, not context, and are not listed here.
/// </summary>
public sealed record PromptContext(BackgroundKind? Background, ShapeColor? Color, PatternKind? Pattern)
{
    /// <summary>Number of attributes the prompt requests.</summary>
    public int Count => (Background is null ? 0 : 1) + (Color is null ? 0 : 1) + (Pattern is null ? 0 : 1);

    /// <summary>Reads the attributes from the words of a filled prompt such as "a photo of a sks square on sand".</summary>
    public static PromptContext Parse(string prompt)
    {
        string[] words = prompt.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        BackgroundKind? background = Enum.GetValues<BackgroundKind>().Cast<BackgroundKind?>()
            .FirstOrDefault(b => words.Contains(ShapesPalette.Word(b!.Value)));
        ShapeColor? color = ShapesPalette.BaseColors.Cast<ShapeColor?>()
            .FirstOrDefault(c => words.Contains(ShapesPalette.Word(c!.Value)));
        PatternKind? pattern = new[] { PatternKind.Stripes, PatternKind.Checker }.Cast<PatternKind?>()
            .FirstOrDefault(p => words.Contains(ShapesPalette.Word(p!.Value)));
        return new PromptContext(background, color, pattern);
    }
}
