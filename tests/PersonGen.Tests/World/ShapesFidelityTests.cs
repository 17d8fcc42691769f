using PersonGen.World;

namespace PersonGen.Tests.World;

public class ShapesFidelityTests
{
    private static ShapeReading Read(ShapeScene scene)
    {
        using var image = new ShapesRenderer().Render(scene);
        return new ShapesAnalyzer().Analyze(image);
    }

    [Fact]
    public void The_concept_scores_full_identity_and_a_plain_superclass_object_scores_one_third()
    {
        var concept = ShapesWorld.Concepts[0];
        var random = new Random(5);
        Assert.Equal(1.0, ShapesFidelity.Identity(Read(concept.SceneOn(BackgroundKind.Sand, 16, random)), concept), 9);
        var plain = ShapesWorld.Place(concept.Shape, ShapeColor.Red, PatternKind.Solid, ShapeColor.Red, BackgroundKind.Sand, 16, random);
        Assert.Equal(1.0 / 3, ShapesFidelity.Identity(Read(plain), concept), 9);
    }

    [Fact]
    public void Context_is_the_fraction_of_requested_attributes_rendered()
    {
        var random = new Random(6);
        var reading = Read(ShapesWorld.Place(ShapeKind.Circle, ShapeColor.Red, PatternKind.Solid, ShapeColor.Red, BackgroundKind.Ocean, 16, random));
        Assert.Equal(1.0, ShapesFidelity.Context(reading, "a photo of a red circle on ocean"));
        Assert.Equal(0.5, ShapesFidelity.Context(reading, "a photo of a blue circle on ocean"));
        Assert.Equal(0.0, ShapesFidelity.Context(reading, "a photo of a sks square on sand"));
        Assert.Equal(1.0, ShapesFidelity.Context(reading, "a photo of a sks square"));
        Assert.Equal(new PromptContext(BackgroundKind.Sand, ShapeColor.Green, PatternKind.Stripes), PromptContext.Parse("a striped green xqz triangle on sand"));
    }
}
