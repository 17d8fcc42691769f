using System.CommandLine;
using PersonGen.Evaluation;
using PersonGen.Evaluation.Studies;
using PersonGen.Runtime;
using Spectre.Console;

namespace PersonGen.Cli.Commands;

/// <summary>
/// <c>persongen study run|merge|report</c>: runs a study file's (strategy, concept, prompt, seed) jobs once each with
/// resumable, atomic results, in shards for cluster array jobs, and writes the metric tables, Pareto fronts, plots and
/// HTML report.
/// </summary>
public static class StudyCommand
{
    public static Command Create()
    {
        var study = new Command("study", "Run a strategy study and report it (metric tables, Pareto fronts, plots, HTML).")
        {
            CreateRun(), CreateMerge(), CreateReport(), StudySubmitCommand.Create(), StudyStatusCommand.Create(),
        };
        return study;
    }

    private static Option<string> OutOption() => new("--out") { Description = "Study output folder (results, images, report).", Required = true };

    private static Command CreateRun()
    {
        var file = new Argument<string>("study") { Description = "Study file (JSON): base_model, concepts, prompts, seeds, images_per_prompt, steps, strategies." };
        var output = OutOption();
        var shard = new Option<string?>("--shard") { Description = "Run slice i of n (0-based, e.g. $SLURM_ARRAY_TASK_ID/$N); merge the shards with 'study merge'.", HelpName = "i/n" };
        var command = new Command("run", "Run the study's unfinished jobs (an interrupted run resumes where it stopped).") { file, output, shard };
        command.SetAction(parseResult =>
        {
            var console = ConsoleFactory.ForOutput(parseResult);
            var definition = StudyDefinition.Load(parseResult.GetValue(file)!);
            var slice = parseResult.GetValue(shard) is { } text ? ShardSpec.Parse(text) : ShardSpec.All;
            string outDir = parseResult.GetValue(output)!;
            var result = Run(console, definition, outDir, slice, GlobalOptions.Compute(parseResult));
            console.WriteLine($"{result.Ran} job(s) run, {result.Skipped} already finished; results in {result.ResultsPath}");
            if (slice.Count == 1) WriteReport(console, definition, outDir);
            else console.WriteLine($"shard {slice} done; after all shards finish run 'persongen study merge {parseResult.GetValue(file)} --out {outDir}'");
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>Runs a study (or one shard) with the diffusion engine and the shapes-world scorer, showing progress.</summary>
    internal static StudyRunResult Run(IAnsiConsole console, StudyDefinition definition, string outDir, ShardSpec shard, ComputeOptions compute)
    {
        using var engine = new DiffusionStudyEngine(definition.BaseModel, compute);
        var runner = new StudyRunner(definition, engine, new ShapesImageScorer(), outDir);
        return ProgressDisplay.Run(console, progress =>
            runner.Run(shard, new Progress<StudyProgress>(p => progress.Report(new ProgressUpdate("study jobs", p.Done, p.Total)))));
    }

    private static Command CreateMerge()
    {
        var file = new Argument<string>("study") { Description = "The study file the shards ran." };
        var output = OutOption();
        var command = new Command("merge", "Join the shard results in --out into results.sqlite and write the report.") { file, output };
        command.SetAction(parseResult =>
        {
            var console = ConsoleFactory.ForOutput(parseResult);
            string outDir = parseResult.GetValue(output)!;
            var shards = Directory.Exists(outDir) ? Directory.GetFiles(outDir, "results.shard-*.sqlite").Order().ToArray() : [];
            if (shards.Length == 0) throw new InvalidInputException($"no shard results (results.shard-*.sqlite) in {outDir}: run 'persongen study run --shard i/n' first");
            StudyResultStore.Merge(shards, Path.Combine(outDir, ShardSpec.All.ResultsFileName));
            console.WriteLine($"merged {shards.Length} shard(s)");
            WriteReport(console, StudyDefinition.Load(parseResult.GetValue(file)!), outDir);
            return CliApp.Success;
        });
        return command;
    }

    private static Command CreateReport()
    {
        var file = new Argument<string>("study") { Description = "The study file." };
        var output = OutOption();
        var command = new Command("report", "Rewrite the report from results.sqlite in --out.") { file, output };
        command.SetAction(parseResult =>
        {
            WriteReport(ConsoleFactory.ForOutput(parseResult), StudyDefinition.Load(parseResult.GetValue(file)!), parseResult.GetValue(output)!);
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>Writes tables, summary.json, Pareto fronts, plots, grids and report.html, and prints the aggregates.</summary>
    internal static IReadOnlyList<StrategyAggregate> WriteReport(IAnsiConsole console, StudyDefinition definition, string outDir)
    {
        string results = Path.Combine(outDir, ShardSpec.All.ResultsFileName);
        if (!File.Exists(results)) throw new InvalidInputException($"no results.sqlite in {outDir}: run 'persongen study run' (or 'study merge') first");
        using var store = StudyResultStore.Open(results);
        var aggregates = StudyReport.Write(outDir, store.ReadAll(), definition.ExpandedStrategies());
        var front = ParetoFront.Of(aggregates.Select(a => new ParetoPoint(a.Strategy, a.Context, a.Identity)).ToList())
            .Select(p => p.Label).ToHashSet();
        var table = new Table().AddColumns("strategy", "identity", "context", "rows/image", "Pareto front");
        foreach (var a in aggregates)
            table.AddRow(Markup.Escape(a.Strategy), $"{a.Identity:0.000}", $"{a.Context:0.000}", $"{a.RowsPerImage:0.#}", front.Contains(a.Strategy) ? "yes" : "");
        console.Write(table);
        console.WriteLine($"report: {Path.Combine(outDir, "report.html")}");
        return aggregates;
    }
}
