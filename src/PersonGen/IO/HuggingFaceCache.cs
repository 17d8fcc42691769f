using System.Text.RegularExpressions;

namespace PersonGen.IO;

/// <summary>
/// Finds models already downloaded into the Hugging Face hub cache
/// (<c>&lt;hub&gt;/models--org--name/snapshots/&lt;commit&gt;/</c>, with <c>refs/&lt;branch&gt;</c> naming the commit),
/// so users reuse what huggingface_hub or diffusers fetched. Never downloads anything.
/// </summary>
public static partial class HuggingFaceCache
{
    /// <summary>
    /// The hub cache folder, chosen as huggingface_hub does: <c>$HF_HUB_CACHE</c>, else <c>$HUGGINGFACE_HUB_CACHE</c>,
    /// else <c>$HF_HOME/hub</c>, else <c>$XDG_CACHE_HOME/huggingface/hub</c>, else <c>~/.cache/huggingface/hub</c>.
    /// </summary>
    public static string HubDirectory
    {
        get
        {
            if (NonEmptyVariable("HF_HUB_CACHE") is { } hub) return ExpandHome(hub);
            if (NonEmptyVariable("HUGGINGFACE_HUB_CACHE") is { } legacy) return ExpandHome(legacy);
            if (NonEmptyVariable("HF_HOME") is { } home) return Path.Combine(ExpandHome(home), "hub");
            string cache = NonEmptyVariable("XDG_CACHE_HOME") is { } xdg
                ? ExpandHome(xdg)
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(cache, "huggingface", "hub");
        }
    }

    /// <summary>True when <paramref name="value"/> has the shape of a hub repository id, <c>org/name</c>.</summary>
    public static bool IsRepoId(string value) => RepoIdPattern().IsMatch(value) && !value.Contains("--") && !value.Contains("..");

    /// <summary>
    /// The snapshot folder of <paramref name="repoId"/> at <paramref name="revision"/> (a branch or tag with a
    /// <c>refs/</c> file, or a full commit hash), or null when the cache does not hold it.
    /// </summary>
    /// <exception cref="ModelLoadException">The cache holds the repository but not that revision.</exception>
    public static string? FindSnapshot(string repoId, string revision = "main")
    {
        string repoDir = RepoDirectory(repoId);
        if (!Directory.Exists(repoDir)) return null;
        string snapshots = Path.Combine(repoDir, "snapshots");
        string refFile = Path.Combine(repoDir, "refs", revision);
        string? commit = null;
        if (IsSafeRevision(revision) && File.Exists(refFile)) commit = File.ReadAllText(refFile).Trim();
        else if (CommitPattern().IsMatch(revision)) commit = revision;
        if (commit is not null && CommitPattern().IsMatch(commit) && Directory.Exists(Path.Combine(snapshots, commit)))
            return Path.Combine(snapshots, commit);
        throw new ModelLoadException(
            $"Hugging Face cache {repoDir} holds '{repoId}' but no snapshot for revision '{revision}'; " +
            $"download it again (huggingface-cli download {repoId} --revision {revision}) or pass the snapshot folder");
    }

    /// <summary>The cache folder of a repository: <c>&lt;hub&gt;/models--org--name</c>.</summary>
    public static string RepoDirectory(string repoId) =>
        Path.Combine(HubDirectory, "models--" + repoId.Replace("/", "--", StringComparison.Ordinal));

    private static bool IsSafeRevision(string revision) =>
        revision.Length > 0 && !revision.Contains("..", StringComparison.Ordinal) && !Path.IsPathRooted(revision)
        && !revision.Contains('\\');

    private static string? NonEmptyVariable(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + path[1..]
            : path;

    [GeneratedRegex(@"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")]
    private static partial Regex RepoIdPattern();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitPattern();
}
