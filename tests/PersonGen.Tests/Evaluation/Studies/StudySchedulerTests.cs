using System.Text.Json;
using PersonGen.Diffusion.Schedulers;
using PersonGen.Evaluation.Studies;
using PersonGen.Runtime;
using PersonGen.Tests.Support;

namespace PersonGen.Tests.Evaluation.Studies;

public class StudySchedulerTests
{
    private static StudyDefinition Study(string extra, string strategy = "base:w=7")
    {
        string folder = TestPaths.NewTempDirectory(), path = Path.Combine(folder, "study.json");
        File.WriteAllText(path, $$"""
            {"base_model": {{JsonSerializer.Serialize(TestPaths.Golden("tiny_sd2"))}}, "concepts": [{"name": "dog", "class": "dog"}],
             "prompts": ["a photo of a {} in the snow"], "seeds": [0], "images_per_prompt": 1, "steps": 3,
             "strategies": ["{{strategy}}"]{{extra}}}
            """);
        return StudyDefinition.Load(path);
    }

    [Fact]
    public void A_study_samples_its_jobs_with_the_scheduler_it_names()
    {
        var ddim = Study("");
        var euler = Study(""", "scheduler": "euler", "karras": true""");
        Assert.Equal(SchedulerChoice.Default, ddim.Jobs()[0].Scheduler);
        Assert.Equal(SchedulerChoice.Parse("euler", karras: true), euler.Jobs()[0].Scheduler);
        Assert.NotEqual(StudyFingerprint.Of(ddim), StudyFingerprint.Of(euler));

        using var engine = new DiffusionStudyEngine(ddim.BaseModel, ComputeOptions.Cpu);
        using var fromDdim = engine.Generate(ddim.Jobs()[0], CancellationToken.None);
        using var fromEuler = engine.Generate(euler.Jobs()[0], CancellationToken.None);
        using var again = engine.Generate(euler.Jobs()[0], CancellationToken.None);
        byte[] Pixels(StudyImages images) => images.Images[0].Bytes;
        Assert.Equal(Pixels(fromEuler), Pixels(again));
        Assert.NotEqual(Pixels(fromDdim), Pixels(fromEuler));
    }

    [Theory]
    [InlineData(""", "scheduler": "plms" """, "base:w=7", "scheduler 'plms' is not one of ddim, euler, dpmpp-2m")]
    [InlineData(""", "karras": true""", "base:w=7", "karras sigmas need a σ scheduler")]
    [InlineData(""", "scheduler": "euler" """, "profusion:wc=3.5,ws=3.5,r=1,gr=7", "needs scheduler ddim")]
    public void A_scheduler_the_study_cannot_use_is_refused_when_the_file_loads(string extra, string strategy, string message)
    {
        var error = Assert.ThrowsAny<PersonGenException>(() => Study(extra, strategy));
        Assert.Contains(message, error.Message);
    }
}
