using System.Reflection;
using NetArchTest.Rules;

namespace PersonGen.Tests;

public class ArchitectureTests
{
    private static readonly Assembly Library = typeof(PersonGenException).Assembly;

    // The library's layers, lowest first; namespaces in one row are peers and never use each other.
    private static readonly string[][] Layers =
    [
        ["PersonGen.IO", "PersonGen.Runtime"],
        ["PersonGen.Models"],
        ["PersonGen.Diffusion"],
        ["PersonGen.Sampling", "PersonGen.Training"],
        ["PersonGen.Evaluation"],
        ["PersonGen.World"],
    ];

    private const string CliNamespace = "PersonGen.Cli";

    public static TheoryData<string, string[]> LayerAndWhatItMustNotUse()
    {
        var data = new TheoryData<string, string[]>();
        for (int i = 0; i < Layers.Length; i++)
            foreach (string layer in Layers[i])
                data.Add(layer, [.. Layers[i].Where(peer => peer != layer), .. Layers.Skip(i + 1).SelectMany(row => row), CliNamespace]);
        return data;
    }

    [Theory]
    [MemberData(nameof(LayerAndWhatItMustNotUse))]
    public void A_layer_never_depends_on_a_peer_or_a_higher_layer(string layer, string[] forbidden)
    {
        // A renamed or emptied namespace would make the rule pass vacuously.
        Assert.NotEmpty(Types.InAssembly(Library).That().ResideInNamespace(layer).GetTypes());
        var result = Types.InAssembly(Library)
            .That().ResideInNamespace(layer)
            .ShouldNot().HaveDependencyOnAny(forbidden)
            .GetResult();
        Assert.True(result.IsSuccessful, $"{layer} uses a higher layer or a peer; offending types: " + string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void Every_library_type_belongs_to_a_layer()
    {
        var layers = Layers.SelectMany(row => row).ToList();
        var outside = Types.InAssembly(Library).GetTypes()
            .Where(t => t.Namespace is { } ns && ns.StartsWith("PersonGen.", StringComparison.Ordinal) && !layers.Any(layer => ns == layer || ns.StartsWith(layer + ".", StringComparison.Ordinal)))
            .Select(t => t.FullName).ToList();
        Assert.True(outside.Count == 0, "types outside every layer: " + string.Join(", ", outside));
    }

    [Fact]
    public void The_library_never_references_the_cli_assembly()
    {
        string cli = typeof(PersonGen.Cli.CliApp).Assembly.GetName().Name!;
        Assert.DoesNotContain(Library.GetReferencedAssemblies(), reference => string.Equals(reference.Name, cli, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void The_library_never_writes_to_the_console()
    {
        var result = Types.InAssembly(Library)
            .ShouldNot().HaveDependencyOnAny("System.Console", "Spectre.Console")
            .GetResult();
        Assert.True(result.IsSuccessful, "offending types: " + string.Join(", ", result.FailingTypeNames ?? []));
    }
}
