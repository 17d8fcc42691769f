using static TorchSharp.torch.nn;

namespace PersonGen.Training.Formats;

/// <summary>
/// kohya's LoRA names: a prefix per component (<c>lora_unet</c>, <c>lora_te</c>) and the module path with every '.'
/// replaced by '_'. Reading one back is ambiguous in general ("a_b.c" and "a.b_c" give the same name), so names are
/// resolved against the modules the model really has, never by guessing where the dots were.
/// </summary>
public sealed class KohyaNames
{
    public const string UnetPrefix = "lora_unet", TextEncoderPrefix = "lora_te";

    private readonly Dictionary<string, List<(string Component, string Path)>> _modules = new(StringComparer.Ordinal);

    /// <summary>Indexes every module of every component of <paramref name="model"/> under its kohya name.</summary>
    public KohyaNames(ConceptModel model)
    {
        foreach (var (component, root) in model.Components()) Add(component, root);
    }

    private void Add(string component, Module root)
    {
        foreach (var (path, _) in root.named_modules())
        {
            if (path.Length == 0) continue;
            string name = Name(component, path);
            if (!_modules.TryGetValue(name, out var paths)) _modules[name] = paths = [];
            paths.Add((component, path));
        }
    }

    /// <summary>The kohya name of module <paramref name="path"/> of <paramref name="component"/>.</summary>
    public static string Name(string component, string path) => $"{Prefix(component)}_{path.Replace('.', '_')}";

    private static string Prefix(string component) => component switch
    {
        ConceptModel.UnetComponent => UnetPrefix,
        ConceptModel.TextEncoderComponent => TextEncoderPrefix,
        _ => throw new ModelLoadException($"kohya's LoRA layout has no name for the component '{component}': expected '{ConceptModel.UnetComponent}' or '{ConceptModel.TextEncoderComponent}'"),
    };

    /// <summary>The module a kohya name stands for, or null when the model has none.</summary>
    /// <exception cref="ModelLoadException">Several modules share the name.</exception>
    public (string Component, string Path)? Resolve(string name)
    {
        if (!_modules.TryGetValue(name, out var paths)) return null;
        if (paths.Count > 1)
            throw new ModelLoadException($"the kohya LoRA name '{name}' fits several modules of this model ({string.Join(", ", paths.Select(p => $"{p.Component}.{p.Path}"))}): it cannot be loaded onto it unambiguously");
        return paths[0];
    }
}
