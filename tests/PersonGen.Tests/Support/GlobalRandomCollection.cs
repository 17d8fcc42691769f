namespace PersonGen.Tests.Support;

/// <summary>
/// Tests that seed torch's process-wide generator (fresh model weights) and compare runs bit for bit: they run
/// alone, after the parallel tests, so no other test draws from that generator in between.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRandomCollection
{
    public const string Name = "torch global generator";
}
