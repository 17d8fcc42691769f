using PersonGen.World;
using static TorchSharp.torch;

namespace PersonGen.Tests.World;

public class ShapesWorldTests
{
    [Theory]
    [InlineData(16, 300)]
    [InlineData(32, 200)]
    public void Analyzer_reads_back_random_renders_with_at_least_99_percent_accuracy(int imageSize, int n)
    {
        var world = new ShapesWorld(imageSize);
        var analyzer = new ShapesAnalyzer();
        var random = new Random(1234);
        int background = 0, shape = 0, color = 0, pattern = 0, second = 0;
        var failures = new List<string>();
        for (int i = 0; i < n; i++)
        {
            var colors = Enum.GetValues<ShapeColor>();
            var first = colors[random.Next(colors.Length)];
            var other = colors.Where(c => c != first).ElementAt(random.Next(colors.Length - 1));
            var scene = ShapesWorld.Place((ShapeKind)random.Next(4), first, (PatternKind)random.Next(3), other,
                (BackgroundKind)random.Next(7), imageSize, random);
            using var image = world.Renderer.Render(scene);
            var reading = analyzer.Analyze(image);
            bool okB = reading.Background == scene.Background, okS = reading.Shape == scene.Shape,
                okC = reading.Color is { } c && scene.Colors.Contains(c), okP = reading.Pattern == scene.Pattern,
                okSet = reading.Colors.ToHashSet().SetEquals(scene.Colors);
            background += okB ? 1 : 0; shape += okS ? 1 : 0; color += okC ? 1 : 0; pattern += okP ? 1 : 0; second += okSet ? 1 : 0;
            if (!(okB && okS && okC && okP && okSet))
                failures.Add($"{scene} -> {reading.Background} {reading.Shape} {reading.Pattern} [{string.Join(",", reading.Colors)}]");
        }
        string report = $"bg {background} shape {shape} colour {color} pattern {pattern} colours {second} of {n}\n" + string.Join("\n", failures.Take(10));
        foreach (int correct in new[] { background, shape, color, pattern, second })
            Assert.True(correct >= 0.99 * n, report);
    }

    [Fact]
    public void Samples_are_deterministic_and_follow_the_recipe()
    {
        var world = new ShapesWorld();
        var a = world.Samples(7, 0, 2000).ToArray();
        var b = world.Samples(7, 0, 2000).ToArray();
        Assert.Equal(a, b);
        Assert.Equal(a[1234], world.Sample(7, 1234));
        Assert.NotEqual(a.Select(s => s.Caption), world.Samples(8, 0, 2000).Select(s => s.Caption));
        double empty = a.Count(s => s.Caption == "") / 2000.0;
        double identifiers = a.Count(s => ShapesWorld.Identifiers.Any(id => s.Caption.Contains(" " + id.Token + " "))) / 2000.0;
        Assert.InRange(empty, 0.07, 0.13);
        Assert.InRange(identifiers, 0.14, 0.22);
        Assert.Contains(a, s => s.Caption.StartsWith("a photo of a ", StringComparison.Ordinal) && s.Caption.Contains(" on "));
        Assert.Contains(a, s => s.Caption.Length > 0 && !s.Caption.Contains(" on "));
        string[] colorWords = Enum.GetValues<ShapeColor>().Select(ShapesPalette.Word).ToArray();
        Assert.DoesNotContain(Enum.GetValues<BackgroundKind>().Select(ShapesPalette.Word), colorWords.Contains);
        Assert.DoesNotContain(a, s => s.Scene.Colors.Contains(ShapeColor.Magenta) || s.Scene.Colors.Contains(ShapeColor.Cyan));
        Assert.DoesNotContain(a, s => world.HeldOut.Contains(new HeldOutCombination(s.Scene.Color, s.Scene.Shape, s.Scene.Background))
            && s.Scene.Pattern == PatternKind.Solid);
    }

    [Fact]
    public void Held_out_combinations_cover_every_shape_and_background_once()
    {
        var world = new ShapesWorld();
        Assert.Equal(28, world.HeldOut.Count);
        Assert.Equal(28, world.HeldOut.Select(h => (h.Shape, h.Background)).Distinct().Count());
        Assert.Contains("a photo of a ", world.HeldOutPrompts[0]);
    }

    [Fact]
    public void Built_in_concepts_render_on_their_one_background_and_are_recognised()
    {
        var world = new ShapesWorld();
        var analyzer = new ShapesAnalyzer();
        foreach (var concept in ShapesWorld.Concepts)
        {
            var scenes = concept.TrainingScenes(world.ImageSize, seed: 0);
            Assert.InRange(scenes.Count, 5, 8);
            Assert.Equal("sks", concept.Token);
            Assert.StartsWith("a photo of a sks ", concept.TrainingPrompt);
            Assert.Equal(6, concept.ContextPromptTemplates.Count);
            foreach (var scene in scenes)
            {
                using var image = world.Renderer.Render(scene);
                var reading = analyzer.Analyze(image);
                Assert.Equal(concept.Background, reading.Background);
                Assert.Equal(concept.Shape, reading.Shape);
                Assert.Equal(concept.Pattern, reading.Pattern);
                Assert.True(reading.Colors.ToHashSet().SetEquals(concept.Colors));
            }
        }
        Assert.Equal("checker-square", ShapesWorld.Concepts[0].Name);
        Assert.Throws<InvalidInputException>(() => ShapesWorld.Concept("nope"));
    }

    [Fact]
    public void Images_round_trip_through_nchw_tensors_in_minus_one_to_one()
    {
        var world = new ShapesWorld();
        var scenes = world.Samples(3, 0, 4).Select(s => s.Scene).ToArray();
        var bitmaps = scenes.Select(world.Renderer.Render).ToArray();
        using var batch = ShapesTensors.ToTensor(bitmaps);
        Assert.Equal(new long[] { 4, 3, 16, 16 }, batch.shape);
        Assert.Equal(ScalarType.Float32, batch.dtype);
        Assert.True(batch.min().item<float>() >= -1f && batch.max().item<float>() <= 1f);
        var back = ShapesTensors.ToBitmaps(batch);
        for (int i = 0; i < 4; i++)
            Assert.Equal(bitmaps[i].Pixels, back[i].Pixels);
        foreach (var b in bitmaps.Concat(back)) b.Dispose();
    }
}
