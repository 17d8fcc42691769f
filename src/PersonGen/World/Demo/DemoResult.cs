using PersonGen.Evaluation.Studies;

namespace PersonGen.World.Demo;

/// <summary>What the demo produced and where its time went.</summary>
public sealed record DemoResult(
    string ReportPath,
    IReadOnlyList<StrategyAggregate> Aggregates,
    TimeSpan FineTuning,
    IReadOnlyDictionary<string, TimeSpan> SamplingByStrategy,
    TimeSpan Metrics,
    TimeSpan Total);
