using PersonGen.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PersonGen.Training;

/// <summary>
/// A fine-tuning parameterization applied to a model in place, addressed by state-dict path. Each affected model
/// parameter ("target") gets an effective value computed from its cached original and small trainable tensors
/// (SVDiff shifts, LoRA factors, token rows, copies of q/k/v). Training: <see cref="Apply"/> writes the effective
/// weights into the model, the model's forward/backward gives dL/dW on the targets, and
/// <see cref="PropagateGradients"/> carries it into the trainable tensors by the chain rule, so no layer type
/// needs a subclass. Inference: <see cref="Fuse"/> computes the effective weights once.
/// </summary>
public abstract class ConceptDelta : IWeightDelta, IDisposable
{
    private sealed class Target(string key, Parameter weight, Tensor original, Func<Tensor, Tensor> effective, ClosedFormGradient? gradient)
    {
        public string Key { get; } = key;
        public Parameter Weight { get; } = weight;
        public Tensor Original { get; } = original;
        public Func<Tensor, Tensor> Effective { get; } = effective;
        public ClosedFormGradient? Gradient { get; } = gradient;
        public Tensor? Fused { get; set; }
    }

    private readonly List<Target> _targets = [];
    private readonly Dictionary<string, List<Parameter>> _groupParameters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _groupRates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Parameter> _trainables = new(StringComparer.Ordinal);
    private readonly HashSet<string> _disabledComponents = new(StringComparer.Ordinal);

    protected ConceptDelta(ConceptModel model) => Model = model;

    public ConceptModel Model { get; }

    /// <summary>The method name stored in checkpoint metadata (<c>svdiff</c>, <c>lora</c>, …).</summary>
    public abstract string Method { get; }

    /// <summary>Extra metadata a loader needs to rebuild this delta (rank, alpha, token, …).</summary>
    public virtual IReadOnlyDictionary<string, string> MethodMetadata => new Dictionary<string, string>();

    /// <summary>Optimizer parameter groups, in creation order.</summary>
    public IReadOnlyList<TrainableGroup> Groups =>
        _groupParameters.Select(g => new TrainableGroup(g.Key, _groupRates[g.Key], g.Value)).ToList();

    /// <summary>Trainable tensors by checkpoint key.</summary>
    public IReadOnlyDictionary<string, Parameter> Trainables => _trainables;

    /// <summary>Number of trainable values.</summary>
    public long TrainableParameterCount => _trainables.Values.Sum(p => p.numel());

    /// <summary>State-dict keys (<c>component.name</c>) of the model parameters this delta changes.</summary>
    public IEnumerable<string> TargetKeys => _targets.Select(t => t.Key);

    public bool Enabled
    {
        get => _disabledComponents.Count == 0;
        set
        {
            _disabledComponents.Clear();
            if (!value) _disabledComponents.UnionWith(_targets.Select(t => ComponentOf(t.Key)));
            Apply();
        }
    }

    public void SetEnabled(string component, bool enabled)
    {
        bool changed = enabled ? _disabledComponents.Remove(component) : _disabledComponents.Add(component);
        if (changed) Apply();
    }

    private static string ComponentOf(string key) => key[..Math.Max(0, key.IndexOf('.'))];

    /// <summary>Writes the personalized weights (or the originals when disabled) into the model parameters.</summary>
    public void Apply()
    {
        using var noGrad = torch.no_grad();
        foreach (var target in _targets)
        {
            if (_disabledComponents.Contains(ComponentOf(target.Key))) { target.Weight.copy_(target.Original); continue; }
            if (target.Fused is { } fused) { target.Weight.copy_(fused); continue; }
            using var scope = torch.NewDisposeScope();
            target.Weight.copy_(target.Effective(target.Original));
        }
    }

    /// <summary>Computes the effective weights once for inference and drops what only training needs.</summary>
    public void Fuse()
    {
        using (var noGrad = torch.no_grad())
        {
            foreach (var target in _targets)
            {
                using var scope = torch.NewDisposeScope();
                target.Fused?.Dispose();
                target.Fused = target.Effective(target.Original).to_type(target.Weight.dtype).MoveToOuterDisposeScope();
            }
        }
        ReleaseTrainingState();
        Apply();
    }

    /// <summary>Whether <see cref="Fuse"/> has run (training is then no longer possible).</summary>
    public bool IsFused => _targets.Count > 0 && _targets[0].Fused is not null;

    /// <summary>Frees caches needed only for training (e.g. SVD factors) after fusing.</summary>
    protected virtual void ReleaseTrainingState() { }

    /// <summary>Freezes the model and lets autograd compute gradients for the target parameters only.</summary>
    public void PrepareForTraining()
    {
        if (IsFused) throw new PersonGenException($"the {Method} concept was fused for inference and cannot be trained further: create it anew");
        foreach (var (_, module) in Model.Components()) ModuleTree.Freeze(module);
        foreach (var target in _targets) target.Weight.requires_grad = true;
        Apply();
    }

    /// <summary>
    /// Carries the gradients the model accumulated on its target parameters into the trainable tensors
    /// (dL/dθ = (∂W'/∂θ)ᵀ dL/dW'), then clears the target gradients. Targets registered with a closed-form backward
    /// use it; the others go through autograd on a recomputed effective weight.
    /// </summary>
    public void PropagateGradients()
    {
        using var scope = torch.NewDisposeScope();
        var outputs = new List<Tensor>();
        var gradients = new List<Tensor>();
        foreach (var target in _targets)
        {
            if (target.Weight.grad is not { } grad) continue;
            if (target.Gradient is { } closedForm)
            {
                using var noGrad = torch.no_grad();
                outputs.Add(closedForm.Trainable);
                gradients.Add(closedForm.Of(grad.to_type(ScalarType.Float32)));
                continue;
            }
            var effective = target.Effective(target.Original);
            if (!effective.requires_grad) continue;
            outputs.Add(effective);
            gradients.Add(grad.to_type(effective.dtype));
        }
        // A trainable among the outputs (closed-form targets) just accumulates its given gradient.
        if (outputs.Count > 0) torch.autograd.backward(outputs, gradients);
        foreach (var target in _targets) target.Weight.grad?.zero_();
    }

    /// <summary>The tensors a checkpoint holds, by key (views of the live trainables: save, do not keep).</summary>
    public virtual IReadOnlyDictionary<string, Tensor> TrainedTensors() =>
        _trainables.ToDictionary(kv => kv.Key, kv => (Tensor)kv.Value, StringComparer.Ordinal);

    /// <summary>Copies checkpoint tensors into the trainables; every trainable must be present with its shape.</summary>
    public virtual void LoadTrainedTensors(IReadOnlyDictionary<string, Tensor> tensors, string source)
    {
        using var noGrad = torch.no_grad();
        foreach (var (key, parameter) in _trainables)
        {
            if (!tensors.TryGetValue(key, out var value))
                throw new ModelLoadException($"{source}: no tensor '{key}' for the {Method} concept: the checkpoint was trained on another base architecture or with other options");
            if (!value.shape.SequenceEqual(parameter.shape))
                throw new ModelLoadException($"{source}: '{key}' has shape [{string.Join(",", value.shape)}] but this model needs [{string.Join(",", parameter.shape)}]: use the base model the concept was trained on");
            parameter.copy_(value);
        }
        var unknown = tensors.Keys.FirstOrDefault(k => !_trainables.ContainsKey(k));
        if (unknown is not null)
            throw new ModelLoadException($"{source}: tensor '{unknown}' matches nothing in this model for the {Method} concept: use the base model the concept was trained on");
        Apply();
    }

    /// <summary>Creates a trainable tensor under <paramref name="key"/> in an optimizer group.</summary>
    /// <remarks>Trainables are float32 whatever the model's dtype: they are the master weights of mixed-precision training.</remarks>
    protected Parameter AddTrainable(string key, string group, double learningRate, Tensor initial)
    {
        var parameter = new Parameter(initial.detach().to_type(ScalarType.Float32).clone(), requires_grad: true);
        _trainables.Add(key, parameter);
        if (!_groupParameters.TryGetValue(group, out var list)) _groupParameters[group] = list = [];
        _groupRates[group] = learningRate;
        list.Add(parameter);
        return parameter;
    }

    /// <summary>
    /// Registers a model parameter whose value is <paramref name="effective"/>(its original value). With
    /// <paramref name="gradient"/>, the value depends on one trainable only and training takes dL/dθ from that
    /// closed form instead of autograd through <paramref name="effective"/>.
    /// </summary>
    protected void AddTarget(string component, string parameterName, Func<Tensor, Tensor> effective, ClosedFormGradient? gradient = null)
    {
        var weight = ModuleTree.FindParameter(Model.Component(component), parameterName, component);
        _targets.Add(new Target($"{component}.{parameterName}", weight, weight.detach().clone(), effective, gradient));
    }

    /// <summary>dL/dθ of <paramref name="Trainable"/> from dL/dW′ (float32, the target parameter's shape), computed without autograd.</summary>
    protected sealed record ClosedFormGradient(Parameter Trainable, Func<Tensor, Tensor> Of);

    /// <summary>Trains a model parameter directly: a trainable copy stands in for it.</summary>
    protected Parameter AddDirectTarget(string component, string parameterName, string key, string group, double learningRate)
    {
        var weight = ModuleTree.FindParameter(Model.Component(component), parameterName, component);
        var trainable = AddTrainable(key, group, learningRate, weight);
        AddTarget(component, parameterName, _ => trainable);
        return trainable;
    }

    /// <summary>
    /// Trains embedding rows <paramref name="ids"/> of the text encoder's token embedding as one tensor
    /// [ids, D] under <paramref name="key"/>; all other rows stay the cached originals.
    /// </summary>
    protected void AddTokenRows(long[] ids, string key, double learningRate)
    {
        string weightName = Methods.PlaceholderTokens.EmbeddingPath + ".weight";
        var weight = ModuleTree.FindParameter(Model.Component(ConceptModel.TextEncoderComponent), weightName, ConceptModel.TextEncoderComponent);
        using var index = torch.tensor(ids);
        using var initial = weight.detach().index_select(0, index);
        var rows = AddTrainable(key, "embeddings", learningRate, initial);
        var rowIndex = index.clone();
        AddTarget(ConceptModel.TextEncoderComponent, weightName, original => original.index_copy(0, rowIndex, rows.to_type(original.dtype)));
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        foreach (var target in _targets) { target.Original.Dispose(); target.Fused?.Dispose(); }
        foreach (var parameter in _trainables.Values) parameter.Dispose();
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
