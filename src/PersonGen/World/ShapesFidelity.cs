namespace PersonGen.World;

/// <summary>
/// Exact fidelity metrics of the shapes world, read by <see cref="ShapesAnalyzer"/>: identity (the CLIP-I analogue)
/// and prompt/context fidelity (the CLIP-T analogue), both per image and in [0, 1].
/// </summary>
public static class ShapesFidelity
{
    /// <summary>
    /// Mean of three equally weighted parts: the shape matches, the pattern matches, and the share of the concept's
    /// colours found among the object's colours. 0 when no object is found.
    /// </summary>
    public static double Identity(ShapeReading reading, ShapesConcept concept)
    {
        if (!reading.HasObject) return 0;
        double shape = reading.Shape == concept.Shape ? 1 : 0;
        double pattern = reading.Pattern == concept.Pattern ? 1 : 0;
        double colors = concept.Colors.Count(reading.Colors.Contains) / (double)concept.Colors.Count;
        return (shape + pattern + colors) / 3;
    }

    /// <summary>
    /// The fraction of the prompt's context attributes (background, colour, pattern words) rendered correctly;
    /// 1 when the prompt asks for none. Colour and pattern count as wrong when no object is found.
    /// </summary>
    public static double Context(ShapeReading reading, string prompt)
    {
        PromptContext wanted = PromptContext.Parse(prompt);
        if (wanted.Count == 0) return 1;
        int correct = 0;
        if (wanted.Background is { } background && reading.Background == background) correct++;
        if (wanted.Color is { } color && reading.Color == color) correct++;
        if (wanted.Pattern is { } pattern && reading.Pattern == pattern) correct++;
        return correct / (double)wanted.Count;
    }
}
