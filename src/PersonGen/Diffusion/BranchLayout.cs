namespace PersonGen.Diffusion;

/// <summary>Where each branch's rows sit in one batched UNet call: rows [Start, Start + Count).</summary>
public sealed class BranchLayout
{
    private readonly Dictionary<Branch, int> _starts;

    public BranchLayout(IReadOnlyList<Branch> branches, int rowsPerBranch)
    {
        Branches = branches;
        RowsPerBranch = rowsPerBranch;
        _starts = new Dictionary<Branch, int>(branches.Count);
        for (int i = 0; i < branches.Count; i++) _starts.Add(branches[i], i * rowsPerBranch);
    }

    public IReadOnlyList<Branch> Branches { get; }

    public int RowsPerBranch { get; }

    public int TotalRows => Branches.Count * RowsPerBranch;

    public bool Contains(Branch branch) => _starts.ContainsKey(branch);

    /// <summary>The first row of <paramref name="branch"/>; throws if the branch is not in this call.</summary>
    public int Start(Branch branch) =>
        _starts.TryGetValue(branch, out int start) ? start
            : throw new InvalidOperationException($"branch {branch} is not part of this UNet call");

    public (int Start, int Count) this[Branch branch] => (Start(branch), RowsPerBranch);
}
