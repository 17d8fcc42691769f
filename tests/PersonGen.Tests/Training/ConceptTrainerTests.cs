using PersonGen.Tests.Support;
using PersonGen.Training;

namespace PersonGen.Tests.Training;

public sealed class ConceptTrainerTests
{
    [Theory]
    [InlineData("svdiff")]
    [InlineData("lora")]
    [InlineData("textual-inversion")]
    public void A_run_killed_mid_way_and_resumed_ends_with_the_same_weights_as_an_uninterrupted_run(string method)
    {
        var options = new TrainingOptions { Steps = 12, Seed = 11, CheckpointEvery = 4, WarmupSteps = 3, GradientAccumulation = 2 };
        Dictionary<string, float[]> Run(string dir, int? killAfter)
        {
            if (killAfter is { } kill)
            {
                using var world = new ToyWorld();
                using var delta = ConceptDeltaTests.Create(method, world.Model);
                using var objective = new FixedBatchObjective(world, ConceptDeltaTests.Word(method), randomNoise: true);
                using var trainer = new ConceptTrainer(delta, objective, options, dir);
                using var cancel = new CancellationTokenSource();
                Assert.Throws<OperationCanceledException>(() =>
                    trainer.Train(new SyncProgress(p => { if (p.Step == kill) cancel.Cancel(); }), cancel.Token));
            }
            using (var world = new ToyWorld())
            using (var delta = ConceptDeltaTests.Create(method, world.Model))
            using (var objective = new FixedBatchObjective(world, ConceptDeltaTests.Word(method), randomNoise: true))
            using (var trainer = new ConceptTrainer(delta, objective, options, dir))
            {
                long resumedAt = trainer.Resume();
                Assert.Equal(killAfter is null ? 0 : 8, resumedAt);
                trainer.Train();
                return delta.Trainables.ToDictionary(kv => kv.Key, kv => kv.Value.detach().data<float>().ToArray());
            }
        }
        var straight = Run(TestPaths.NewTempDirectory(), null);
        var resumed = Run(TestPaths.NewTempDirectory(), 10);
        Assert.Equal(straight.Keys.Order(), resumed.Keys.Order());
        foreach (var (key, values) in straight) Assert.True(values.SequenceEqual(resumed[key]), $"{key}: max diff {values.Zip(resumed[key], (a, b) => Math.Abs(a - b)).Max()}");
    }
}
