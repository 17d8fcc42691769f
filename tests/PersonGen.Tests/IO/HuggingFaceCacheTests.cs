using PersonGen.IO;
using PersonGen.Tests.Support;

namespace PersonGen.Tests.IO;

/// <summary>Resolution of org/name ids in fake hub caches; the tests set HF_* variables, so they run in one class.</summary>
public sealed class HuggingFaceCacheTests : IDisposable
{
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";
    private static readonly string[] Variables = ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"];
    private readonly Dictionary<string, string?> _saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);

    public HuggingFaceCacheTests()
    {
        foreach (string variable in Variables) Environment.SetEnvironmentVariable(variable, null);
    }

    public void Dispose()
    {
        foreach (var (variable, value) in _saved) Environment.SetEnvironmentVariable(variable, value);
    }

    [Fact]
    public void A_repo_id_resolves_through_refs_main_in_HF_HUB_CACHE()
    {
        string hub = TestPaths.NewTempDirectory();
        string snapshot = WriteCachedRepo(hub, "org/tiny-model");
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", hub);

        var model = ModelFolder.Open("org/tiny-model");

        Assert.Equal(snapshot, model.Root);
        Assert.Equal("diffusion_pytorch_model.safetensors", Path.GetFileName(Assert.Single(model.WeightFiles("unet"))));
    }

    [Fact]
    public void HF_HOME_hub_is_used_when_HF_HUB_CACHE_is_unset()
    {
        string home = TestPaths.NewTempDirectory();
        string snapshot = WriteCachedRepo(Path.Combine(home, "hub"), "org/tiny-model");
        Environment.SetEnvironmentVariable("HF_HOME", home);

        Assert.Equal(snapshot, ModelFolder.Open("org/tiny-model").Root);
        Assert.Equal(Path.Combine(home, "hub"), HuggingFaceCache.HubDirectory);
    }

    [Fact]
    public void XDG_CACHE_HOME_is_the_last_fallback()
    {
        string cache = TestPaths.NewTempDirectory();
        Environment.SetEnvironmentVariable("XDG_CACHE_HOME", cache);

        Assert.Equal(Path.Combine(cache, "huggingface", "hub"), HuggingFaceCache.HubDirectory);
    }

    [Fact]
    public void A_commit_hash_revision_selects_that_snapshot()
    {
        string hub = TestPaths.NewTempDirectory();
        string snapshot = WriteCachedRepo(hub, "org/tiny-model");
        File.Delete(Path.Combine(hub, "models--org--tiny-model", "refs", "main"));
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", hub);

        Assert.Equal(snapshot, ModelFolder.Resolve("org/tiny-model", Commit));
    }

    [Fact]
    public void A_ref_to_a_missing_snapshot_is_refused()
    {
        string hub = TestPaths.NewTempDirectory();
        WriteCachedRepo(hub, "org/tiny-model");
        File.WriteAllText(Path.Combine(hub, "models--org--tiny-model", "refs", "main"), "ffffffffffffffffffffffffffffffffffffffff");
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", hub);

        var error = Assert.Throws<ModelLoadException>(() => ModelFolder.Open("org/tiny-model"));

        Assert.Contains("holds 'org/tiny-model' but no snapshot for revision 'main'", error.Message);
    }

    [Fact]
    public void A_repo_id_missing_from_the_cache_says_where_it_looked_and_how_to_fix_it()
    {
        string hub = TestPaths.NewTempDirectory();
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", hub);

        var error = Assert.Throws<ModelLoadException>(() => ModelFolder.Open("stabilityai/stable-diffusion-2-base"));

        Assert.Equal(
            $"Model 'stabilityai/stable-diffusion-2-base' is neither a local folder nor in the Hugging Face cache ({Path.Combine(hub, "models--stabilityai--stable-diffusion-2-base")}); " +
            "download it first (huggingface-cli download stabilityai/stable-diffusion-2-base) or pass a local folder", error.Message);
    }

    [Theory]
    [InlineData("org/name", true)]
    [InlineData("stabilityai/stable-diffusion-2-base", true)]
    [InlineData("org/../name", false)]
    [InlineData("../org/name", false)]
    [InlineData("org/name/extra", false)]
    [InlineData("/abs/path", false)]
    [InlineData("org--x/name", false)]
    [InlineData("name", false)]
    public void Repo_ids_have_the_org_name_shape(string value, bool expected) =>
        Assert.Equal(expected, HuggingFaceCache.IsRepoId(value));

    // Lays out a repo as huggingface_hub does: files are blobs, the snapshot holds symlinks to them.
    private static string WriteCachedRepo(string hub, string repoId)
    {
        string repo = Path.Combine(hub, "models--" + repoId.Replace("/", "--"));
        string snapshot = Path.Combine(repo, "snapshots", Commit);
        FakeModel.Create(Directory.CreateDirectory(snapshot).FullName);
        string blobs = Directory.CreateDirectory(Path.Combine(repo, "blobs")).FullName;
        string blob = Path.Combine(blobs, "4f1a");
        File.WriteAllText(blob, "");
        File.CreateSymbolicLink(Path.Combine(snapshot, "unet", "diffusion_pytorch_model.safetensors"), Path.Combine("..", "..", "..", "blobs", "4f1a"));
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        File.WriteAllText(Path.Combine(repo, "refs", "main"), Commit);
        return snapshot;
    }
}
