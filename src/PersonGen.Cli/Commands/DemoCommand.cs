using System.CommandLine;
using System.Globalization;
using PersonGen.Evaluation.Studies;
using PersonGen.World;
using PersonGen.World.Demo;
using Spectre.Console;

namespace PersonGen.Cli.Commands;

/// <summary>
/// <c>persongen demo</c>: the built-in end-to-end run — fine-tune a shapes-world concept into the shipped base model and
/// study all eight sampling strategies on it, with exact identity and context scores, Pareto fronts and a report.
/// </summary>
public static class DemoCommand
{
    /// <summary>The shipped shapes-world model next to the command (copied there by the build).</summary>
    public static string BundledModel => Path.Combine(AppContext.BaseDirectory, "models", "shapes-world");

    public static Command Create()
    {
        var defaults = new DemoOptions { OutDir = "", BaseModel = "" };
        var output = new Option<string>("--out") { Description = "Output folder (rerun with the same folder to resume).", DefaultValueFactory = _ => "demo-out" };
        var model = new Option<string?>("--model") { Description = "Base model folder (default: the shipped shapes-world model)." };
        var concept = new Option<string>("--concept") { Description = "Built-in concept.", DefaultValueFactory = _ => defaults.Concept };
        concept.AcceptOnlyFromAmong([.. PersonGen.World.ShapesWorld.Concepts.Select(c => c.Name)]);
        var method = new Option<string>("--method") { Description = "Fine-tuning method.", DefaultValueFactory = _ => defaults.Method };
        method.AcceptOnlyFromAmong([.. PersonGen.Training.ConceptTraining.Methods]);
        var fineTuneSteps = new Option<int>("--finetune-steps") { Description = "Fine-tuning steps.", DefaultValueFactory = _ => defaults.FineTuneSteps };
        var learningRate = new Option<double?>("--lr") { Description = "Fine-tuning learning rate (default: 1e-2 for svdiff, 2e-4 for full, else the method's)." };
        var classImages = new Option<int>("--class-images") { Description = "Base-world class images for prior preservation (0 = none).", DefaultValueFactory = _ => defaults.ClassImages };
        var steps = new Option<int>("--steps") { Description = "Sampling steps.", DefaultValueFactory = _ => defaults.Steps };
        var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds.", DefaultValueFactory = _ => string.Join(',', defaults.Seeds) };
        var images = new Option<int>("--images-per-prompt") { Description = "Images per (strategy, prompt, seed).", DefaultValueFactory = _ => defaults.ImagesPerPrompt };
        var strategies = new Option<string[]>("--strategy") { Description = "Strategy spec or grid (repeatable; default: all eight strategies)." };
        var command = new Command("demo", "Fine-tune a built-in concept and study all eight sampling strategies on it (the built-in default job).")
        {
            output, model, concept, method, fineTuneSteps, learningRate, classImages, steps, seeds, images, strategies,
        };
        command.SetAction(parseResult =>
        {
            var console = ConsoleFactory.ForOutput(parseResult);
            var chosen = parseResult.GetValue(strategies) is { Length: > 0 } given ? given : defaults.Strategies;
            var options = defaults with
            {
                OutDir = parseResult.GetValue(output)!,
                BaseModel = parseResult.GetValue(model) ?? BundledModel,
                Concept = parseResult.GetValue(concept)!,
                Method = parseResult.GetValue(method)!,
                FineTuneSteps = parseResult.GetValue(fineTuneSteps),
                LearningRate = parseResult.GetValue(learningRate),
                ClassImages = parseResult.GetValue(classImages),
                Steps = parseResult.GetValue(steps),
                Seeds = ParseSeeds(parseResult.GetValue(seeds)!),
                ImagesPerPrompt = parseResult.GetValue(images),
                Strategies = chosen,
            };
            console.MarkupLineInterpolated($"[bold]PersonGen demo[/]: concept '{options.Concept}' ({options.Method}, {options.FineTuneSteps} steps, lr {LearningRateText(options.EffectiveLearningRate)}) into {options.BaseModel}");
            console.MarkupLineInterpolated($"writing to {Path.GetFullPath(options.OutDir)}");
            var result = ProgressDisplay.Run(console, progress => BuiltInDemo.Run(options, GlobalOptions.Compute(parseResult), progress));
            console.Write(StudyCommand.AggregateTable(result.Aggregates, ShapesMetric.All.Select(m => m.Name).ToArray(), ("sampling s",
                a => result.SamplingByStrategy.TryGetValue(a.Strategy, out var t) ? t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) : "-")));
            double sampling = result.SamplingByStrategy.Values.Sum(t => t.TotalSeconds);
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"time: total {result.Total.TotalSeconds:0} s = fine-tuning {result.FineTuning.TotalSeconds:0} s + sampling {sampling:0} s + metrics {result.Metrics.TotalSeconds:0} s (+ loading and reports)"));
            console.WriteLine($"report: {Path.GetFullPath(result.ReportPath)}");
            return CliApp.Success;
        });
        return command;
    }

    private static string LearningRateText(double? rate) =>
        rate is { } value ? value.ToString("G", System.Globalization.CultureInfo.InvariantCulture) : "of the method";

    private static IReadOnlyList<int> ParseSeeds(string text)
    {
        var seeds = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed) || seed < 0)
                throw new InvalidInputException($"--seeds: '{part}' is not a seed; give non-negative integers such as 0,1,2");
            seeds.Add(seed);
        }
        return seeds.Count > 0 ? seeds : throw new InvalidInputException("--seeds is empty; give at least one seed such as 0");
    }
}
