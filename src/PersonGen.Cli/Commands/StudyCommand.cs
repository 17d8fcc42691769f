using System.CommandLine;
using System.Globalization;
using PersonGen.Evaluation.Studies;
using PersonGen.Runtime;
using PersonGen.World;
using Spectre.Console;

namespace PersonGen.Cli.Commands;

/// <summary>
/// <c>persongen study run|merge|report</c>: runs a study file's (strategy, concept, prompt, seed) jobs once each with
/// resumable, atomic results, in shards for cluster array jobs, and writes the metric tables, Pareto fronts, plots and
/// HTML report.
/// </summary>
public static class StudyCommand
{
    // Study files name the world's metrics by default, so they are registered before any study is read.
    static StudyCommand() => ShapesMetric.Register();

    public static Command Create()
    {
        var study = new Command("study", "Run a strategy study and report it (metric tables, Pareto fronts, plots, HTML).")
        {
            CreateRun(), CreateMerge(), CreateReport(), StudySubmitCommand.Create(), StudyStatusCommand.Create(),
        };
        return study;
    }

    private static Option<string> OutOption() => new("--out") { Description = "Study output folder (results, images, report).", Required = true };

    private static Option<bool> PartialOption() => new("--partial") { Description = "Report even though some jobs are not finished; the report is marked partial." };

    /// <summary>Loads a study file and prints its notices (repeated seeds or prompts, which run once).</summary>
    private static StudyDefinition Load(IAnsiConsole console, string path)
    {
        var definition = StudyDefinition.Load(path);
        foreach (string notice in definition.Notices()) console.WriteLine($"note: {notice}");
        return definition;
    }

    private static Command CreateRun()
    {
        var file = new Argument<string>("study") { Description = "Study file (JSON): base_model, concepts, prompts, seeds, images_per_prompt, steps, strategies." };
        var output = OutOption();
        var shard = new Option<string?>("--shard") { Description = "Run slice i of n (0-based, e.g. $SLURM_ARRAY_TASK_ID/$N); merge the shards with 'study merge'.", HelpName = "i/n" };
        var command = new Command("run", "Run the study's unfinished jobs (an interrupted run resumes where it stopped).") { file, output, shard };
        command.SetAction(parseResult =>
        {
            var console = ConsoleFactory.ForOutput(parseResult);
            var slice = parseResult.GetValue(shard) is { } text ? ShardSpec.Parse(text) : ShardSpec.All;
            var definition = Load(console, parseResult.GetValue(file)!);
            definition.VerifyCheckpoints();
            string outDir = parseResult.GetValue(output)!;
            var result = Run(console, definition, outDir, slice, GlobalOptions.Compute(parseResult));
            console.WriteLine($"{result.Ran} job(s) run, {result.Skipped} already finished; results in {result.ResultsPath}");
            if (slice.Count == 1) WriteReport(console, definition, outDir, partial: false);
            else console.WriteLine($"shard {slice} done; after all shards finish run 'persongen study merge {parseResult.GetValue(file)} --out {outDir}'");
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>Runs a study (or one shard) with the diffusion engine and the study's registered metrics, showing progress.</summary>
    internal static StudyRunResult Run(IAnsiConsole console, StudyDefinition definition, string outDir, ShardSpec shard, ComputeOptions compute)
    {
        var metrics = StudyMetrics.Of(definition).All; // an unknown metric fails before the model loads
        using var engine = new DiffusionStudyEngine(definition.BaseModel, compute);
        var runner = new StudyRunner(definition, engine, metrics, outDir);
        return ProgressDisplay.Run(console, progress =>
            runner.Run(shard, new Progress<StudyProgress>(p => progress.Report(new ProgressUpdate("study jobs", p.Done, p.Total)))));
    }

    private static Command CreateMerge()
    {
        var file = new Argument<string>("study") { Description = "The study file the shards ran." };
        var output = OutOption();
        var from = new Option<string[]>("--from")
        {
            Description = "Other folders holding shard results (results.shard-*.sqlite and their images), e.g. one per machine; images are copied into --out.",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "DIR",
        };
        var partial = PartialOption();
        var command = new Command("merge", "Join the shard results (in --out and --from folders) into results.sqlite in --out and write the report.") { file, output, from, partial };
        command.SetAction(parseResult =>
        {
            var console = ConsoleFactory.ForOutput(parseResult);
            string outDir = parseResult.GetValue(output)!;
            var definition = Load(console, parseResult.GetValue(file)!);
            bool allowPartial = parseResult.GetValue(partial);
            var merge = StudyMerge.Plan(definition, outDir, parseResult.GetValue(from) ?? []);
            if (merge.Missing.Count > 0 && !allowPartial)
                throw new InvalidInputException($"shard(s) missing or unfinished: {string.Join(", ", merge.Missing)}: run them, or pass --partial to merge and report what there is");
            merge.Execute();
            console.WriteLine($"merged {merge.Found.Count} shard(s){(merge.Missing.Count > 0 ? $"; missing: {string.Join(", ", merge.Missing)}" : "")}");
            WriteReport(console, definition, outDir, allowPartial);
            return CliApp.Success;
        });
        return command;
    }

    private static Command CreateReport()
    {
        var file = new Argument<string>("study") { Description = "The study file." };
        var output = OutOption();
        var partial = PartialOption();
        var command = new Command("report", "Rewrite the report from results.sqlite in --out.") { file, output, partial };
        command.SetAction(parseResult =>
        {
            var console = ConsoleFactory.ForOutput(parseResult);
            WriteReport(console, Load(console, parseResult.GetValue(file)!), parseResult.GetValue(output)!, parseResult.GetValue(partial));
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>
    /// Writes tables, summary.json, Pareto fronts, plots, grids and report.html, and prints the aggregates. Results of
    /// another study are refused; unfinished ones too unless <paramref name="partial"/> (then the report says so).
    /// </summary>
    internal static IReadOnlyList<StrategyAggregate> WriteReport(IAnsiConsole console, StudyDefinition definition, string outDir, bool partial)
    {
        string results = Path.Combine(outDir, ShardSpec.All.ResultsFileName);
        if (!File.Exists(results)) throw new InvalidInputException($"no results.sqlite in {outDir}: run 'persongen study run' (or 'study merge') first");
        using var store = StudyResultStore.Open(results);
        store.RequireStudy(StudyFingerprint.Of(definition), definition.SourcePath);
        var jobs = definition.Jobs();
        var finished = store.FinishedJobKeys();
        int done = jobs.Count(j => finished.Contains(j.Key));
        string? partialNote = done < jobs.Count ? $"{done} of {jobs.Count} jobs finished" : null;
        if (partialNote is not null && !partial)
            throw new InvalidInputException($"results in {outDir} are partial ({partialNote}): finish the study, or pass --partial to report what there is");
        var metrics = StudyMetrics.Of(definition);
        var aggregates = StudyReport.Write(outDir, store.ReadAll(), metrics, definition.ExpandedStrategies(), partialNote);
        console.Write(AggregateTable(aggregates, metrics.Names.ToArray()));
        if (partialNote is not null) console.WriteLine($"partial report: {partialNote}");
        console.WriteLine($"report: {Path.Combine(outDir, "report.html")}");
        return aggregates;
    }

    /// <summary>One row per strategy: each metric, rows per image, an optional extra column, and Pareto-front membership.</summary>
    internal static Table AggregateTable(IReadOnlyList<StrategyAggregate> aggregates, IReadOnlyList<string> metrics,
        (string Header, Func<StrategyAggregate, string> Cell)? extra = null)
    {
        string[] headers = ["strategy", .. metrics, "rows/image", .. extra is { } e ? new[] { e.Header } : [], "Pareto front"];
        var table = new Table().AddColumns(headers);
        foreach (var a in aggregates)
            table.AddRow([Markup.Escape(a.Strategy), .. metrics.Select(m => a.Values[m].ToString("0.000", CultureInfo.InvariantCulture)),
                a.RowsPerImage.ToString("0.#", CultureInfo.InvariantCulture), .. extra is { } x ? new[] { x.Cell(a) } : [], a.OnFront ? "yes" : ""]);
        return table;
    }
}
