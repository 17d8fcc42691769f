namespace PersonGen.World;

/// <summary>
/// Prompt accuracy of a world model: for each held-out (colour, shape, background) caption, generate images and
/// let <see cref="ShapesAnalyzer"/> read background, shape and colour back. Images per prompt share one seed rule
/// (seed + prompt index), so results are reproducible.
/// </summary>
public static class WorldAccuracy
{
    /// <summary>Measures every held-out combination of <paramref name="world"/>.</summary>
    public static WorldAccuracyReport Measure(WorldSampler sampler, ShapesWorld world, int imagesPerPrompt, long seed = 0,
        double guidance = 7, int steps = 25, IProgress<Runtime.ProgressUpdate>? progress = null)
    {
        var analyzer = new ShapesAnalyzer();
        var rows = new List<WorldAccuracyRow>();
        for (int i = 0; i < world.HeldOut.Count; i++)
        {
            HeldOutCombination wanted = world.HeldOut[i];
            using var images = sampler.Generate(wanted.Prompt, imagesPerPrompt, seed + i, guidance, steps);
            foreach (var bitmap in ShapesTensors.ToBitmaps(images))
            {
                using (bitmap)
                {
                    ShapeReading reading = analyzer.Analyze(bitmap);
                    rows.Add(new WorldAccuracyRow(wanted, reading.Background == wanted.Background,
                        reading.Shape == wanted.Shape, reading.Color == wanted.Color));
                }
            }
            progress?.Report(new Runtime.ProgressUpdate("held-out prompts", i + 1, world.HeldOut.Count));
        }
        return new WorldAccuracyReport(rows);
    }
}
