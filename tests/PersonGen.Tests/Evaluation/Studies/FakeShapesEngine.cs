using System.Globalization;
using PersonGen.Evaluation;
using PersonGen.Evaluation.Studies;
using PersonGen.World;
using SkiaSharp;

namespace PersonGen.Tests.Evaluation.Studies;

/// <summary>
/// A deterministic stand-in for the diffusion engine: each image shows the concept on its training background
/// (what Base does), or a plain class object on the prompt's background (what Superclass does), chosen with the
/// probability given by the spec's superclass share (ws / (wc + ws) for mixed). Can fail at a chosen job.
/// </summary>
internal sealed class FakeShapesEngine(int? failAtCall = null) : IStudyEngine
{
    private readonly ShapesRenderer _renderer = new();

    public int Calls { get; private set; }

    public StudyImages Generate(StudyJob job, CancellationToken cancellationToken)
    {
        Calls++;
        if (Calls == failAtCall) throw new InvalidOperationException("engine crashed");
        var concept = ShapesWorld.Concept(job.Concept.Name);
        var random = new Random(StableHash(job.Key));
        double superShare = SuperclassShare(job.Strategy);
        BackgroundKind wanted = PromptContext.Parse(job.ConceptPrompt).Background ?? concept.Background;
        var images = new List<SKBitmap>();
        for (int i = 0; i < job.ImagesPerPrompt; i++)
        {
            ShapeScene scene = random.NextDouble() < superShare
                ? ShapesWorld.Place(concept.Shape, ShapeColor.Orange, PatternKind.Solid, ShapeColor.Orange, wanted, 16, random)
                : concept.SceneOn(concept.Background, 16, random);
            images.Add(_renderer.Render(scene));
        }
        return new StudyImages(images, job.Family == "base" || job.Family == "superclass" ? 2 : 3);
    }

    private static double SuperclassShare(string spec)
    {
        var parameters = spec.Contains(':')
            ? spec[(spec.IndexOf(':') + 1)..].Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1])
            : [];
        double Get(string key) => parameters.TryGetValue(key, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : 0;
        return spec.Split(':')[0] switch
        {
            "superclass" => 1,
            "mixed" => Get("ws") / (Get("wc") + Get("ws")),
            _ => 0,
        };
    }

    private static int StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text) hash = (hash ^ c) * 16777619;
        return (int)(hash & 0x7fffffff);
    }
}
