using System.CommandLine;
using System.Globalization;
using PersonGen.Diffusion;
using PersonGen.Runtime;
using PersonGen.Training;
using Spectre.Console;

namespace PersonGen.Cli.Commands;

/// <summary><c>persongen train</c>: fine-tunes a concept on a folder of photos and writes <c>&lt;out&gt;/concept.safetensors</c>.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var method = new Option<string>("--method") { Description = "Fine-tuning method.", Required = true };
        method.AcceptOnlyFromAmong([.. ConceptTraining.Methods]);
        var model = new Option<string>("--model") { Description = "Base model folder (diffusers layout) or a Hugging Face id in the local cache.", Required = true };
        var images = new Option<string>("--images") { Description = "Folder of JPEG/PNG/WebP photos of the concept.", Required = true, HelpName = "DIR" };
        var token = new Option<string>("--token") { Description = "Placeholder token (sks; a new token such as <sks-dog> for textual-inversion and custom-diffusion).", Required = true };
        var classWord = new Option<string>("--class") { Description = "Class word of the concept (dog, backpack).", Required = true };
        var steps = new Option<int?>("--steps") { Description = "Optimizer steps, at least 1 (default: the method's paper default: svdiff 1600, dreambooth 400, custom-diffusion 1600, textual-inversion 10000, lora 800, full 1000)." };
        var output = new Option<string>("--out") { Description = "Output folder (concept.safetensors and checkpoint-<step> folders).", Required = true, HelpName = "DIR" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in --out (refused when the checkpoint's run had other settings)." };
        var resumeOverride = new Option<bool>("--resume-override") { Description = "With --resume: continue even when --lr, --seed, --steps or other settings differ from the checkpoint's run." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Train afresh into an --out that already holds a concept or checkpoints (deletes the old checkpoints)." };
        var learningRate = new Option<double?>("--lr") { Description = "Learning rate (default: the method's: svdiff 1e-3, dreambooth 2e-5, custom-diffusion 1e-5, textual-inversion 5e-3, lora 1e-4, full 1e-4)." };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per step.", DefaultValueFactory = _ => 1 };
        var seed = new Option<long>("--seed") { Description = "Seed of data order, augmentation, noise and timesteps.", DefaultValueFactory = _ => 0 };
        var saveEvery = new Option<int>("--save-every") { Description = "Write a resumable checkpoint every N steps (0: only the final concept).", DefaultValueFactory = _ => 0 };
        var classImages = new Option<string?>("--class-images") { Description = "Prior preservation: folder of class images.", HelpName = "DIR" };
        var classPrompt = new Option<string?>("--class-prompt") { Description = "Prompt of the class images (default: the template filled with the class word)." };
        var flip = new Option<bool>("--flip") { Description = "Mirror training images at random." };
        var template = new Option<string>("--prompt-template") { Description = "Training prompt; {} becomes \"<token> <class>\".", DefaultValueFactory = _ => "a photo of a {}" };
        var noTextEncoder = new Option<bool>("--no-text-encoder") { Description = "Leave the text encoder frozen (svdiff, dreambooth, lora, full)." };
        var rank = new Option<int?>("--rank") { Description = "LoRA rank (default 4)." };
        var validationPrompts = new Option<string[]>("--validation-prompt") { Description = "Validation prompt containing the placeholder token (repeatable); writes grids validation/step-<k>.png under --out.", HelpName = "TEXT" };
        var validationEvery = new Option<int>("--validation-every") { Description = "Validate every N steps (0: at each checkpoint of --save-every; the last step always).", DefaultValueFactory = _ => 0 };
        var validationImages = new Option<int>("--validation-images") { Description = "Validation images per prompt.", DefaultValueFactory = _ => 2 };
        var validationSteps = new Option<int>("--validation-steps") { Description = "DDIM steps of the validation images.", DefaultValueFactory = _ => 25 };
        var validationSeed = new Option<long>("--validation-seed") { Description = "Seed of the validation images' initial noise.", DefaultValueFactory = _ => 0 };
        var command = new Command("train", "Fine-tune a concept (SVDiff, DreamBooth, Custom Diffusion, Textual Inversion, LoRA, full) on a folder of photos.")
        {
            method, model, images, token, classWord, steps, output, resume, resumeOverride, overwrite, learningRate, batchSize, seed, saveEvery,
            classImages, classPrompt, flip, template, noTextEncoder, rank,
            validationPrompts, validationEvery, validationImages, validationSteps, validationSeed,
        };
        command.SetAction(parseResult =>
        {
            var console = ConsoleFactory.ForOutput(parseResult);
            var request = new ConceptTrainingRequest
            {
                Method = parseResult.GetValue(method)!,
                ImageFolder = parseResult.GetValue(images)!,
                Token = parseResult.GetValue(token)!,
                ClassWord = parseResult.GetValue(classWord)!,
                OutDir = parseResult.GetValue(output)!,
                Steps = parseResult.GetValue(steps),
                LearningRate = parseResult.GetValue(learningRate),
                BatchSize = parseResult.GetValue(batchSize),
                Seed = parseResult.GetValue(seed),
                Resume = parseResult.GetValue(resume),
                ResumeOverride = parseResult.GetValue(resumeOverride),
                Overwrite = parseResult.GetValue(overwrite),
                SaveEvery = parseResult.GetValue(saveEvery),
                ClassImageFolder = parseResult.GetValue(classImages),
                ClassPrompt = parseResult.GetValue(classPrompt),
                Flip = parseResult.GetValue(flip),
                PromptTemplate = parseResult.GetValue(template)!,
                IncludeTextEncoder = !parseResult.GetValue(noTextEncoder),
                LoraRank = parseResult.GetValue(rank),
                Validation = new ValidationOptions
                {
                    Prompts = parseResult.GetValue(validationPrompts) ?? [],
                    Every = parseResult.GetValue(validationEvery),
                    ImagesPerPrompt = parseResult.GetValue(validationImages),
                    Steps = parseResult.GetValue(validationSteps),
                    Seed = parseResult.GetValue(validationSeed),
                },
            };
            var compute = GlobalOptions.Compute(parseResult);
            using var cancellation = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancellation.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                string modelPath = parseResult.GetValue(model)!;
                var (path, last) = Run(console, progress =>
                {
                    using var sd = StableDiffusionModel.Load(modelPath, compute);
                    return ConceptTraining.Train(sd, request, progress, cancellation.Token);
                });
                string loss = double.IsNaN(last.Loss) ? "" : $", last loss {last.Loss.ToString("F4", CultureInfo.InvariantCulture)}";
                console.WriteLine($"trained {request.Method} for {last.Step} steps{loss}: wrote {path}");
                if (request.Validation.Prompts.Count > 0)
                    console.WriteLine($"validation grids in {Path.Combine(request.OutDir, ValidationOptions.FolderName)}");
            }
            catch (OperationCanceledException)
            {
                console.WriteLine($"interrupted: continue with the same command plus --resume (checkpoints in {request.OutDir})");
                return CliApp.Failure;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>Runs the training under a progress display whose training bar shows loss and steps/s.</summary>
    private static (string Path, TrainingProgress Last) Run(IAnsiConsole console, Func<TrainProgress, string> work)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            var silent = new TrainProgress(null);
            return (work(silent), silent.Last);
        }
        return console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var display = new TrainProgress(context);
                return (work(display), display.Last);
            });
    }

    /// <summary>Stage bars for <see cref="ProgressUpdate"/>s; the training bar's label carries the latest loss and steps/s.</summary>
    private sealed class TrainProgress(ProgressContext? context) : IProgress<ProgressUpdate>, IProgress<TrainingProgress>
    {
        private readonly Dictionary<string, ProgressTask> _tasks = new(StringComparer.Ordinal);

        public TrainingProgress Last { get; private set; } = new(0, 0, double.NaN, 0, null);

        public void Report(ProgressUpdate value)
        {
            if (context is null) return;
            if (!_tasks.TryGetValue(value.Stage, out var task))
                _tasks[value.Stage] = task = context.AddTask(Markup.Escape(value.Stage), maxValue: Math.Max(1, value.Total));
            task.MaxValue = Math.Max(1, value.Total);
            task.Value = value.Completed;
        }

        public void Report(TrainingProgress value)
        {
            Last = value;
            if (context is null || !_tasks.TryGetValue("training", out var task) || double.IsNaN(value.Loss)) return;
            task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"training  loss {value.Loss:F4}  {value.StepsPerSecond:F2} steps/s"));
            context.Refresh();
        }
    }
}
