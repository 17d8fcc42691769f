using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Training;

/// <summary>Finds layers and parameters of a TorchSharp module tree by their state-dict path.</summary>
public static class ModuleTree
{
    /// <summary>Every Linear/Conv1d/Conv2d/Embedding/LayerNorm/GroupNorm with a weight, by module path (state-dict order).</summary>
    public static IEnumerable<(string Path, Module Layer)> WeightedLayers(Module root) =>
        root.named_modules()
            .Where(m => m.module is TorchSharp.Modules.Linear or TorchSharp.Modules.Conv1d or TorchSharp.Modules.Conv2d or TorchSharp.Modules.Embedding or TorchSharp.Modules.LayerNorm or TorchSharp.Modules.GroupNorm && Weight(m.module) is not null)
            .Select(m => (m.name, (Module)m.module));

    /// <summary>True for the norm layers whose affine γ SVDiff shifts with one scalar.</summary>
    public static bool IsNorm(Module layer) => layer is TorchSharp.Modules.LayerNorm or TorchSharp.Modules.GroupNorm;

    /// <summary>The layer's own <c>weight</c> parameter, or null (e.g. a norm without affine parameters).</summary>
    public static Parameter? Weight(Module layer) =>
        layer.named_parameters(recurse: false).Where(p => p.name == "weight").Select(p => p.parameter).FirstOrDefault();

    /// <summary>Every parameter of the tree by state-dict name.</summary>
    public static Dictionary<string, Parameter> Parameters(Module root) =>
        root.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);

    /// <summary>The parameter at <paramref name="name"/>, or a <see cref="ModelLoadException"/> naming it.</summary>
    public static Parameter FindParameter(Module root, string name, string component) =>
        root.named_parameters().Where(p => p.name == name).Select(p => p.parameter).FirstOrDefault()
        ?? throw new ModelLoadException($"{component} has no parameter '{name}': the concept was trained on another base architecture; use the base model it was trained on");

    /// <summary>The submodule at <paramref name="path"/> ("" = root), or a <see cref="ModelLoadException"/> naming it.</summary>
    public static Module Submodule(Module root, string path, string component)
    {
        if (path.Length == 0) return root;
        return root.named_modules().Where(m => m.name == path).Select(m => (Module)m.module).FirstOrDefault()
            ?? throw new ModelLoadException($"{component} has no module '{path}': the concept was trained on another base architecture; use the base model it was trained on");
    }

    /// <summary>Freezes every parameter of the tree (requires_grad = false).</summary>
    public static void Freeze(Module root)
    {
        foreach (var (_, p) in root.named_parameters()) p.requires_grad = false;
    }
}
