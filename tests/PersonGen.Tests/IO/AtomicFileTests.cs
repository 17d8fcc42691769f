using PersonGen.IO;
using PersonGen.Tests.Support;
using PersonGen.Training.Formats;
using static TorchSharp.torch;

namespace PersonGen.Tests.IO;

/// <summary>Issue 11, item 5: one atomic-write helper serves every file the library writes outside studies.</summary>
public class AtomicFileTests
{
    [Fact]
    public void A_write_that_fails_midway_keeps_the_old_file_and_leaves_no_temporary()
    {
        string folder = TestPaths.NewTempDirectory();
        string path = Path.Combine(folder, "data.bin");
        AtomicFile.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("half a new file"u8);
            throw new InvalidOperationException("interrupted");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(folder));
    }

    [Fact]
    public void A_pickled_embedding_under_a_file_is_refused_naming_the_path_and_leaves_no_temporary()
    {
        // EmbeddingFiles wrote "x.pt.tmp" by hand: a raw IOException, and a leftover temporary on failure.
        string folder = TestPaths.NewTempDirectory();
        string blocker = Path.Combine(folder, "not-a-folder");
        File.WriteAllText(blocker, "");
        using var rows = zeros(1, 4);
        var error = Assert.Throws<OutputPathException>(() => EmbeddingFiles.Write(Path.Combine(blocker, "x.pt"), rows, new Dictionary<string, string>()));
        Assert.Contains("not-a-folder", error.Message);
        Assert.Equal([blocker], Directory.GetFiles(folder));
    }
}
