using static TorchSharp.torch.nn;

namespace PersonGen.Training;

/// <summary>
/// The module trees a concept changes: the UNet, optionally the CLIP text encoder (transformers names,
/// <c>text_model.…</c>), and the tokenizer vocabulary a placeholder token is added to.
/// </summary>
public sealed record ConceptModel(Module Unet, Module? TextEncoder = null, IConceptVocabulary? Vocabulary = null)
{
    public const string UnetComponent = "unet";
    public const string TextEncoderComponent = "text_encoder";

    /// <summary>The module tree for a component name (<c>unet</c> or <c>text_encoder</c>).</summary>
    public Module Component(string name) => name switch
    {
        UnetComponent => Unet,
        TextEncoderComponent => TextEncoder ?? throw new ModelLoadException("the concept changes the text encoder but none was given: load the base model with its text encoder"),
        _ => throw new ModelLoadException($"unknown model component '{name}': expected '{UnetComponent}' or '{TextEncoderComponent}'"),
    };

    /// <summary>The components present, UNet first.</summary>
    public IEnumerable<(string Name, Module Module)> Components()
    {
        yield return (UnetComponent, Unet);
        if (TextEncoder is not null) yield return (TextEncoderComponent, TextEncoder);
    }
}
