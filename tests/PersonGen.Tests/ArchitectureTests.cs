using NetArchTest.Rules;

namespace PersonGen.Tests;

public class ArchitectureTests
{
    [Fact]
    public void Models_and_diffusion_never_depend_on_sampling_or_training()
    {
        var result = Types.InAssembly(typeof(PersonGenException).Assembly)
            .That().ResideInNamespace("PersonGen.Models").Or().ResideInNamespace("PersonGen.Diffusion")
            .ShouldNot().HaveDependencyOnAny("PersonGen.Sampling", "PersonGen.Training")
            .GetResult();
        Assert.True(result.IsSuccessful, "offending types: " + string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void The_library_never_writes_to_the_console()
    {
        var result = Types.InAssembly(typeof(PersonGenException).Assembly)
            .ShouldNot().HaveDependencyOnAny("System.Console", "Spectre.Console")
            .GetResult();
        Assert.True(result.IsSuccessful, "offending types: " + string.Join(", ", result.FailingTypeNames ?? []));
    }
}
