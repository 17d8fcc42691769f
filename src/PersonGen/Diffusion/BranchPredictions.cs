using static TorchSharp.torch;

namespace PersonGen.Diffusion;

/// <summary>The UNet's output (N rows) for each branch evaluated in a step.</summary>
public sealed class BranchPredictions
{
    private readonly Dictionary<Branch, Tensor> _byBranch = new();

    public void Add(Branch branch, Tensor prediction) => _byBranch.Add(branch, prediction);

    public Tensor this[Branch branch] =>
        _byBranch.TryGetValue(branch, out var prediction) ? prediction
            : throw new InvalidOperationException($"branch {branch} was not evaluated in this step; list it in Branches()");

    public bool Contains(Branch branch) => _byBranch.ContainsKey(branch);

    /// <summary>Guidance term Δ = ε_cond − ε_uncond.</summary>
    public Tensor Delta(Branch conditional, Branch unconditional) => this[conditional] - this[unconditional];
}
