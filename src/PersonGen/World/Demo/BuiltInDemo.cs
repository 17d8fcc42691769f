using System.Diagnostics;
using System.Text.Json;
using PersonGen.Diffusion;
using PersonGen.Evaluation.Studies;
using PersonGen.IO;
using PersonGen.Runtime;
using PersonGen.Training;
using SkiaSharp;

namespace PersonGen.World.Demo;

/// <summary>
/// The built-in demo: renders a concept the base world never shows (all on one background), fine-tunes it into the
/// shipped shapes-world model, then runs a study of every sampling strategy on prompts that put the concept on the
/// other backgrounds, scoring identity and context exactly. Every stage resumes: rerun to continue after an interruption.
/// </summary>
public static class BuiltInDemo
{
    public static DemoResult Run(DemoOptions options, ComputeOptions compute, IProgress<ProgressUpdate>? progress = null,
        CancellationToken cancellation = default)
    {
        var total = Stopwatch.StartNew();
        var concept = ShapesWorld.Concept(options.Concept);
        string conceptDir = Path.Combine(options.OutDir, "concept");
        string checkpoint = Path.Combine(conceptDir, "concept.safetensors");

        options.Validate();
        var study = new StudyDefinition
        {
            BaseModel = options.BaseModel,
            Concepts = [new StudyConcept { Name = concept.Name, Method = options.Method, Checkpoint = checkpoint, Token = concept.Token, ClassWord = concept.ClassWord }],
            Prompts = concept.ContextPromptTemplates,
            Seeds = options.Seeds,
            ImagesPerPrompt = options.ImagesPerPrompt,
            Steps = options.Steps,
            Strategies = options.Strategies,
        };
        // Every input is checked before the fine-tuning, which takes minutes.
        study.Validate();
        foreach (string spec in study.ExpandedStrategies()) Sampling.StrategyRegistry.Parse(spec).Validate(options.Steps);

        var fineTuning = Stopwatch.StartNew();
        if (!File.Exists(checkpoint)) FineTune(options, concept, conceptDir, compute, progress, cancellation);
        fineTuning.Stop();

        study.VerifyCheckpoints();
        // Paths relative to the study file's folder, so the file works from any working directory.
        string outDir = Path.GetFullPath(options.OutDir);
        var portable = study with
        {
            BaseModel = Directory.Exists(options.BaseModel) ? Path.GetRelativePath(outDir, Path.GetFullPath(options.BaseModel)) : options.BaseModel,
            Concepts = [study.Concepts[0] with { Checkpoint = Path.GetRelativePath(outDir, Path.GetFullPath(checkpoint)) }],
        };
        File.WriteAllText(Path.Combine(options.OutDir, "study.json"), JsonSerializer.Serialize(portable, new JsonSerializerOptions { WriteIndented = true }));

        using var engine = new TimedEngine(new DiffusionStudyEngine(options.BaseModel, compute));
        var scoring = new Stopwatch();
        var metrics = ShapesMetric.All.Select(m => (IImageMetric)new TimedMetric(m, scoring)).ToArray();
        var runner = new StudyRunner(study, engine, metrics, options.OutDir);
        runner.Run(progress: new Progress<StudyProgress>(p => progress?.Report(new ProgressUpdate("study jobs", p.Done, p.Total))),
            cancellationToken: cancellation);
        using var store = StudyResultStore.Open(Path.Combine(options.OutDir, ShardSpec.All.ResultsFileName));
        var aggregates = StudyReport.Write(options.OutDir, store.ReadAll(), StudyMetrics.Of(study, metrics), study.ExpandedStrategies());
        total.Stop();
        return new DemoResult(Path.Combine(options.OutDir, "report.html"), aggregates, fineTuning.Elapsed, engine.ByStrategy,
            scoring.Elapsed, total.Elapsed);
    }

    private static void FineTune(DemoOptions options, ShapesConcept concept, string conceptDir, ComputeOptions compute,
        IProgress<ProgressUpdate>? progress, CancellationToken cancellation)
    {
        using var model = StableDiffusionModel.Load(options.BaseModel, compute);
        int size = model.DefaultImageSize;
        var renderer = new ShapesRenderer(size);
        string images = Path.Combine(conceptDir, "images");
        WritePngs(images, concept.TrainingScenes(size, seed: 0).Select(renderer.Render));
        string? classImages = null;
        if (options.ClassImages > 0)
        {
            // Prior preservation: squares of the base world, any colour, on any background ("a photo of a square").
            var random = new Random(1);
            var colors = ShapesPalette.BaseColors;
            var backgrounds = Enum.GetValues<BackgroundKind>();
            classImages = Path.Combine(conceptDir, "class-images");
            WritePngs(classImages, Enumerable.Range(0, options.ClassImages).Select(_ => renderer.Render(ShapesWorld.Place(
                concept.Shape, colors[random.Next(colors.Count)], PatternKind.Solid, colors[0], backgrounds[random.Next(backgrounds.Length)], size, random))));
        }
        bool resume = Directory.Exists(conceptDir) && Directory.EnumerateDirectories(conceptDir, "checkpoint-*").Any();
        ConceptTraining.Train(model, new ConceptTrainingRequest
        {
            Method = options.Method,
            ImageFolder = images,
            Token = concept.Token,
            ClassWord = concept.ClassWord,
            OutDir = conceptDir,
            Steps = options.FineTuneSteps,
            LearningRate = options.EffectiveLearningRate,
            ClassImageFolder = classImages,
            ClassPrompt = classImages is null ? null : $"a photo of a {concept.ClassWord}",
            SaveEvery = Math.Max(50, options.FineTuneSteps / 4),
            Resume = resume,
        }, progress, cancellation);
    }

    private static void WritePngs(string folder, IEnumerable<SKBitmap> bitmaps)
    {
        Directory.CreateDirectory(folder);
        int index = 0;
        foreach (var bitmap in bitmaps)
        {
            using (bitmap) ImageIO.SavePng(bitmap, Path.Combine(folder, $"{index++:00}.png"));
        }
    }

    /// <summary>Adds up generation time per strategy spec.</summary>
    private sealed class TimedEngine(DiffusionStudyEngine inner) : IStudyEngine, IDisposable
    {
        private readonly Dictionary<string, TimeSpan> _byStrategy = new(StringComparer.Ordinal);

        public IReadOnlyDictionary<string, TimeSpan> ByStrategy => _byStrategy;

        public StudyImages Generate(StudyJob job, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            var images = inner.Generate(job, cancellationToken);
            _byStrategy[job.Strategy] = _byStrategy.GetValueOrDefault(job.Strategy) + clock.Elapsed;
            return images;
        }

        public void Dispose() => inner.Dispose();
    }

    /// <summary>Adds up scoring time on <paramref name="clock"/>.</summary>
    private sealed class TimedMetric(IImageMetric inner, Stopwatch clock) : IImageMetric
    {
        public string Name => inner.Name;

        public bool HigherIsBetter => inner.HigherIsBetter;

        public IReadOnlyList<double> Score(IReadOnlyList<SKBitmap> images, StudyJob job)
        {
            clock.Start();
            try
            {
                return inner.Score(images, job);
            }
            finally
            {
                clock.Stop();
            }
        }
    }
}
