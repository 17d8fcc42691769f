using System.Globalization;
using PersonGen.Diffusion;
using PersonGen.Runtime;
using PersonGen.Training.Methods;

namespace PersonGen.Training;

/// <summary>
/// Fine-tunes a concept on a loaded model: the one entry point of <c>persongen train</c> and the built-in demo.
/// Builds the method's delta on the model's UNet / text encoder / tokenizer, trains it with <see cref="ConceptTrainer"/>
/// (AdamW, the method's paper defaults, gradient clipping at 1, ε or v target from the model's scheduler), writes
/// <c>&lt;OutDir&gt;/concept.safetensors</c> and leaves the trained concept fused and enabled as <c>model.Concept</c>.
/// A bf16 model trains in mixed precision: frozen weights and activations bf16, trainables, their gradients, the
/// AdamW state, the loss and the checkpoint float32.
/// </summary>
public static class ConceptTraining
{
    /// <summary>The method names, as the CLI spells them.</summary>
    public static IReadOnlyList<string> Methods { get; } = ["svdiff", "dreambooth", "custom-diffusion", "textual-inversion", "lora", "full"];

    /// <summary>Learning rate of the main parameter group per method (paper Appendix B; LoRA and full: common practice).</summary>
    public static IReadOnlyDictionary<string, double> DefaultLearningRates { get; } = new Dictionary<string, double>
    {
        ["svdiff"] = SvdiffDelta.DefaultLearningRate,
        ["dreambooth"] = DreamBoothDelta.DefaultLearningRate,
        ["custom-diffusion"] = CustomDiffusionDelta.DefaultLearningRate,
        ["textual-inversion"] = TextualInversionDelta.DefaultLearningRate,
        ["lora"] = LoraDelta.DefaultLearningRate,
        ["full"] = 1e-4,
    };

    /// <summary>Steps per method when the request gives none (paper Appendix B; LoRA 800, full 1000).</summary>
    public static IReadOnlyDictionary<string, int> DefaultSteps { get; } = new Dictionary<string, int>
    {
        ["svdiff"] = 1600,
        ["dreambooth"] = 400,
        ["custom-diffusion"] = 1600,
        ["textual-inversion"] = 10_000,
        ["lora"] = 800,
        ["full"] = 1000,
    };

    /// <summary>The reference's Textual Inversion prompt templates (diffusers' <c>imagenet_templates_small</c>).</summary>
    public static IReadOnlyList<string> TextualInversionTemplates { get; } =
    [
        "a photo of a {}", "a rendering of a {}", "a cropped photo of the {}", "the photo of a {}", "a photo of a clean {}",
        "a photo of a dirty {}", "a dark photo of the {}", "a photo of my {}", "a photo of the cool {}", "a close-up photo of a {}",
        "a bright photo of the {}", "a cropped photo of a {}", "a photo of the {}", "a good photo of the {}", "a photo of one {}",
        "a close-up photo of the {}", "a rendition of the {}", "a photo of the clean {}", "a rendition of a {}", "a photo of a nice {}",
        "a good photo of a {}", "a photo of the nice {}", "a photo of the small {}", "a photo of the weird {}", "a photo of the large {}",
        "a photo of a cool {}", "a photo of a small {}",
    ];

    /// <summary>
    /// Trains the concept and returns the path of <c>&lt;OutDir&gt;/concept.safetensors</c>, writing the validation grids
    /// of <see cref="ConceptTrainingRequest.Validation"/> on the way (a resumed run keeps those that exist). Progress: one
    /// <see cref="ProgressUpdate"/> per stage ("encoding images", "training", "validation"); a sink that also implements
    /// <see cref="IProgress{TrainingProgress}"/> receives each step's loss and steps/s as well.
    /// </summary>
    /// <exception cref="InvalidInputException">Unknown method, missing class word, bad image folder, placeholder already in the vocabulary,
    /// a validation prompt without the placeholder, an fp16 model.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between steps (the newest checkpoint stays resumable).</exception>
    public static string Train(StableDiffusionModel model, ConceptTrainingRequest request, IProgress<ProgressUpdate>? progress = null,
        CancellationToken cancellation = default)
    {
        Validate(request);
        // fp16 gradients underflow without dynamic loss scaling, which this trainer does not do; bf16 has fp32's range.
        if (model.Compute.DType == TorchSharp.torch.ScalarType.Float16)
            throw new InvalidInputException("concept training does not support `dtype` fp16 (it would need loss scaling): use `dtype` bf16 or `dtype` fp32");
        int steps = request.Steps ?? DefaultSteps[request.Method];
        var settings = RunSettings(request, steps);
        CheckOutputFolder(request, steps, settings);
        bool randomScale = request.Method == "custom-diffusion";
        progress?.Report(new ProgressUpdate("encoding images", 0, 1));
        using var instances = ConceptDataset.Load(model, request.ImageFolder, request.Flip, randomScale);
        using var classImages = request.ClassImageFolder is { } classFolder ? ConceptDataset.Load(model, classFolder, request.Flip) : null;
        progress?.Report(new ProgressUpdate("encoding images", 1, 1));

        // A concept already applied would become part of the "original" weights: put the base weights back first.
        if (model.Concept is { } previous)
        {
            previous.Enabled = false;
            (previous as IDisposable)?.Dispose();
            model.Concept = null;
        }
        var conceptModel = new ConceptModel(model.Unet, model.TextEncoder, new TokenizerVocabulary(model.Tokenizer));
        var delta = CreateDelta(request, conceptModel);
        try
        {
            string subject = request.Method == "textual-inversion" ? request.Token : $"{request.Token} {request.ClassWord}";
            Func<TorchSharp.torch.Generator, string> instancePrompt = request.Method == "textual-inversion"
                ? generator => Fill(TextualInversionTemplates[ConceptDataset.RandomInt(generator, 0, TextualInversionTemplates.Count)], subject)
                : _ => Fill(request.PromptTemplate, subject);
            string? classPrompt = classImages is null ? null : request.ClassPrompt ?? Fill(request.PromptTemplate, request.ClassWord);
            using var objective = new ConceptObjective(model, instances, instancePrompt, request.BatchSize, classImages, classPrompt);
            var options = new TrainingOptions { Steps = steps, Seed = request.Seed, CheckpointEvery = request.SaveEvery, RunSettings = settings };
            if (request.Overwrite)
                foreach (string old in Directory.EnumerateDirectories(request.OutDir, "checkpoint-*")) Directory.Delete(old, recursive: true);
            using var trainer = new ConceptTrainer(delta, objective, options, request.OutDir, model.Source, request.Token, request.ClassWord);
            if (request.Resume) trainer.Resume();
            long startStep = trainer.Step;
            var validation = new ConceptValidation(model, request.Validation, request.OutDir, request.SaveEvery, steps,
                keepExisting: request.Resume, progress, cancellation);
            validation.RunIfDue(startStep); // a run stopped while validating its checkpoint's step
            trainer.StepCompleted = validation.RunIfDue;
            var relay = new StepRelay(progress, steps);
            relay.Report(new TrainingProgress(startStep, steps, double.NaN, 0, null));
            trainer.Train(relay, cancellation);
            string path = Path.Combine(request.OutDir, ConceptTrainer.ConceptFileName);
            if (startStep >= steps || !File.Exists(path))
            {
                using var snapshot = ConceptCheckpoint.FromDelta(delta, model.Source, request.Token, request.ClassWord, trainer.Step);
                snapshot.Save(path);
            }
            delta.Fuse();
            model.Concept = delta;
            return path;
        }
        catch
        {
            delta.Enabled = false;
            delta.Dispose();
            throw;
        }
    }

    private static string Fill(string template, string subject) => template.Replace("{}", subject, StringComparison.Ordinal);

    private static void Validate(ConceptTrainingRequest request)
    {
        if (!Methods.Contains(request.Method))
            throw new InvalidInputException($"unknown training method '{request.Method}': use one of {string.Join(", ", Methods)}");
        if (string.IsNullOrWhiteSpace(request.ClassWord))
            throw new InvalidInputException("the class word is missing: pass `class` with the concept's category, e.g. `class` dog");
        if (string.IsNullOrWhiteSpace(request.Token))
            throw new InvalidInputException("the placeholder token is missing: pass `token` sks (or a new token such as <sks-dog>)");
        if (request.Steps is < 1 and var given)
            throw new InvalidInputException($"`steps` {given} must be at least 1 (leave it out for the method's default, {DefaultSteps[request.Method]} for {request.Method})");
        if (request.Resume && request.Overwrite) throw new InvalidInputException("`resume` and `overwrite` contradict each other: pass one of them");
        if (request.BatchSize < 1) throw new InvalidInputException($"`batch_size` {request.BatchSize} must be at least 1");
        if (request.SaveEvery < 0) throw new InvalidInputException($"`save_every` {request.SaveEvery} must not be negative");
        if (request.LearningRate is { } lr && !(lr > 0 && double.IsFinite(lr)))
            throw new InvalidInputException($"`lr` {lr.ToString(CultureInfo.InvariantCulture)} must be a positive number");
        ValidateValidation(request);
        if (!request.PromptTemplate.Contains("{}", StringComparison.Ordinal))
            throw new InvalidInputException($"`prompt_template` \"{request.PromptTemplate}\" has no '{{}}' for the concept: use e.g. \"a photo of a {{}}\"");
        if (request.ClassPrompt is not null && request.ClassImageFolder is null)
            throw new InvalidInputException("`class_prompt` needs `class_images` DIR (the prior-preservation images)");
    }

    /// <summary>What changes a run's trajectory, keyed by the train option that sets it; recorded in every checkpoint.</summary>
    private static Dictionary<string, string> RunSettings(ConceptTrainingRequest request, int steps) => new(StringComparer.Ordinal)
    {
        ["method"] = request.Method,
        ["token"] = request.Token,
        ["class"] = request.ClassWord,
        ["steps"] = steps.ToString(CultureInfo.InvariantCulture),
        ["lr"] = (request.LearningRate ?? DefaultLearningRates[request.Method]).ToString("R", CultureInfo.InvariantCulture),
        ["seed"] = request.Seed.ToString(CultureInfo.InvariantCulture),
        ["batch-size"] = request.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["flip"] = request.Flip ? "true" : "false",
        ["prompt-template"] = request.PromptTemplate,
        ["no-text-encoder"] = request.IncludeTextEncoder ? "false" : "true",
        ["rank"] = (request.LoraRank ?? 4).ToString(CultureInfo.InvariantCulture),
        ["class-images"] = request.ClassImageFolder is { } folder ? Path.GetFullPath(folder) : "",
        ["class-prompt"] = request.ClassPrompt ?? "",
    };

    /// <summary>Refuses, before any work, to replace finished work or to resume a checkpoint of a different run.</summary>
    private static void CheckOutputFolder(ConceptTrainingRequest request, int steps, IReadOnlyDictionary<string, string> settings)
    {
        string outDir = request.OutDir;
        IO.OutputPath.CreateDirectory(outDir);
        bool hasConcept = File.Exists(Path.Combine(outDir, ConceptTrainer.ConceptFileName));
        if (!request.Resume)
        {
            if (request.Overwrite) return;
            if (Directory.Exists(outDir) && Directory.EnumerateDirectories(outDir, "checkpoint-*").Any())
                throw new InvalidInputException($"'{outDir}' already holds training checkpoints: pass `resume` to continue them, `overwrite` to start afresh, or choose a new `out` folder");
            if (hasConcept)
                throw new InvalidInputException($"'{outDir}' already holds a trained {ConceptTrainer.ConceptFileName}: pass `overwrite` to replace it, or choose a new `out` folder");
            return;
        }
        var checkpoint = ConceptTrainer.LatestCheckpoint(outDir) ?? throw new InvalidInputException(hasConcept
            ? $"'{outDir}' holds a finished {ConceptTrainer.ConceptFileName} but no checkpoint to resume: drop `resume` (with `overwrite` to train it again), or choose a new `out` folder"
            : $"'{outDir}' holds no checkpoint to resume: drop `resume` to start training (`save_every` N writes resumable checkpoints)");
        if (steps < checkpoint.Step)
            throw new InvalidInputException($"`steps` {steps} is below the step of the checkpoint to resume ({checkpoint.Directory}, step {checkpoint.Step}): pass `steps` {checkpoint.Step} or more, or train into a new `out` folder");
        if (request.ResumeOverride) return;
        foreach (var (key, asked) in settings)
        {
            if (!checkpoint.Settings.TryGetValue(key, out var recorded) || recorded == asked) continue;
            // Going further than the recorded run extends its trajectory; stopping short of it is a different run.
            if (key == "steps" && steps > long.Parse(recorded, CultureInfo.InvariantCulture)) continue;
            throw new InvalidInputException($"the checkpoint to resume ({checkpoint.Directory}) was trained with `{key.Replace('-', '_')}` '{recorded}' but this run has '{asked}': " +
                $"resume with `{key.Replace('-', '_')}` '{recorded}', train into a new `out` folder, or pass `resume_override` to continue with the new value");
        }
    }

    private static void ValidateValidation(ConceptTrainingRequest request)
    {
        var validation = request.Validation;
        string example = request.Method == "textual-inversion" ? request.Token : $"{request.Token} {request.ClassWord}";
        foreach (string prompt in validation.Prompts)
        {
            if (!ContainsWord(prompt, request.Token))
                throw new InvalidInputException($"`validation_prompt` \"{prompt}\" does not contain the placeholder token '{request.Token}': write it where the concept goes, e.g. \"a photo of a {example} on the beach\"");
        }
        if (validation.Every < 0) throw new InvalidInputException($"`validation_every` {validation.Every} must not be negative (0: at each checkpoint)");
        if (validation.ImagesPerPrompt < 1) throw new InvalidInputException($"`validation_images` {validation.ImagesPerPrompt} must be at least 1");
        if (validation.Steps < 1) throw new InvalidInputException($"`validation_steps` {validation.Steps} must be at least 1");
        if (validation.Seed < 0) throw new InvalidInputException($"`validation_seed` {validation.Seed} must not be negative");
    }

    /// <summary>Whether <paramref name="word"/> occurs in <paramref name="text"/> not glued to letters or digits ("sks" in "a sks dog", not in "asks").</summary>
    private static bool ContainsWord(string text, string word)
    {
        for (int at = text.IndexOf(word, StringComparison.Ordinal); at >= 0; at = text.IndexOf(word, at + 1, StringComparison.Ordinal))
        {
            int end = at + word.Length;
            if ((at == 0 || !char.IsLetterOrDigit(text[at - 1])) && (end == text.Length || !char.IsLetterOrDigit(text[end]))) return true;
        }
        return false;
    }

    private static ConceptDelta CreateDelta(ConceptTrainingRequest request, ConceptModel model)
    {
        double lr = request.LearningRate ?? DefaultLearningRates[request.Method];
        bool textEncoder = request.IncludeTextEncoder;
        // A one-token class word starts the new embedding row (the reference's initializer); otherwise the mean row.
        string? initializer = model.Vocabulary!.TokenId(request.ClassWord) is null ? null : request.ClassWord;
        return request.Method switch
        {
            "svdiff" => new SvdiffDelta(model, textEncoder, learningRate: lr),
            "dreambooth" => new DreamBoothDelta(model, DreamBoothScope.QkvProjections, textEncoder, lr),
            "full" => new DreamBoothDelta(model, DreamBoothScope.AllParameters, textEncoder, lr, method: "full"),
            "custom-diffusion" => new CustomDiffusionDelta(model, request.Token, initializer, learningRate: lr),
            "textual-inversion" => new TextualInversionDelta(model, request.Token, initializer, learningRate: lr),
            "lora" => new LoraDelta(model, request.LoraRank ?? 4, null, textEncoder, lr, request.Seed),
            _ => throw new InvalidInputException($"unknown training method '{request.Method}': use one of {string.Join(", ", Methods)}"),
        };
    }

    /// <summary>Forwards trainer steps as "training" progress, plus the full record to sinks that take it.</summary>
    private sealed class StepRelay(IProgress<ProgressUpdate>? progress, long total) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            progress?.Report(new ProgressUpdate("training", value.Step, total));
            (progress as IProgress<TrainingProgress>)?.Report(value);
        }
    }
}
