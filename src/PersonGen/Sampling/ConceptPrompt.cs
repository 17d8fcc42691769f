using PersonGen.Diffusion;

namespace PersonGen.Sampling;

/// <summary>
/// A prompt template with one slot, filled with "placeholder class" for the concept branch ("a sks dog in the snow"),
/// with the class word for the superclass branch ("a dog in the snow") and with nothing for the Empty variant.
/// </summary>
public sealed record ConceptPrompt
{
    private const string Slot = "{}";

    private ConceptPrompt(string template, string placeholder, string classWord)
    {
        Template = template;
        Placeholder = placeholder;
        ClassWord = classWord;
    }

    /// <summary>The template with its slot written <c>{}</c>.</summary>
    public string Template { get; }

    public string Placeholder { get; }

    public string ClassWord { get; }

    /// <summary>The template filled with placeholder and class word.</summary>
    public string Concept => Fill($"{Placeholder} {ClassWord}");

    /// <summary>The template filled with the class word.</summary>
    public string Superclass => Fill(ClassWord);

    /// <summary>The template filled with nothing (the reference keeps the double space: "a  in the snow").</summary>
    public string Empty => Fill("");

    /// <summary>
    /// Reads a prompt given as a template (<c>a {} in the snow</c>, or the reference's <c>a {0} in the snow</c>) or as the
    /// concept prompt itself (<c>a sks dog in the snow</c>).
    /// </summary>
    /// <exception cref="InvalidInputException">No slot and no "placeholder class" in the prompt, or an empty placeholder or class.</exception>
    public static ConceptPrompt Parse(string prompt, string placeholder, string classWord)
    {
        if (string.IsNullOrWhiteSpace(placeholder))
            throw new InvalidInputException("the placeholder token is empty; pass it with `placeholder` (for example sks)");
        if (string.IsNullOrWhiteSpace(classWord))
            throw new InvalidInputException("the class word is empty; pass it with `class` (for example dog)");
        placeholder = placeholder.Trim();
        classWord = classWord.Trim();
        string template = prompt.Replace("{0}", Slot, StringComparison.Ordinal);
        if (!template.Contains(Slot, StringComparison.Ordinal))
        {
            string concept = $"{placeholder} {classWord}";
            int at = template.IndexOf(concept, StringComparison.Ordinal);
            if (at < 0)
                throw new InvalidInputException(
                    $"prompt \"{prompt}\" has no slot '{{}}' and does not contain \"{concept}\"; write it as a template such as \"a {{}} in the snow\"");
            template = template[..at] + Slot + template[(at + concept.Length)..];
        }
        if (template.IndexOf(Slot, StringComparison.Ordinal) != template.LastIndexOf(Slot, StringComparison.Ordinal))
            throw new InvalidInputException($"prompt \"{prompt}\" has more than one slot '{{}}'; use exactly one");
        return new ConceptPrompt(template, placeholder, classWord);
    }

    /// <summary>
    /// The initial-noise seed of the reference: Σ ord(c) over the template written with <c>{0}</c>, plus
    /// <paramref name="seed"/>; so the noise depends only on template and seed, and strategies pair up image by image.
    /// </summary>
    public long NoiseSeed(long seed) => NoiseSource.SeedForTemplate(Template.Replace(Slot, "{0}", StringComparison.Ordinal), 0) + seed;

    private string Fill(string filler) => Template.Replace(Slot, filler, StringComparison.Ordinal);
}
