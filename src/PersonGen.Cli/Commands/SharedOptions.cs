using System.CommandLine;
using PersonGen.Diffusion;
using PersonGen.Diffusion.Schedulers;
using Spectre.Console;

namespace PersonGen.Cli.Commands;

/// <summary>Options and notices shared by the sampling commands.</summary>
internal static class SharedOptions
{
    /// <summary><c>--model</c>: the base model.</summary>
    public static Option<string> Model() => new("--model") { Description = "Model folder (diffusers layout) or a Hugging Face id in the local cache.", Required = true };

    /// <summary><c>--concept</c>: a trained concept to apply.</summary>
    public static Option<string?> Concept() => new("--concept") { Description = "Concept checkpoint to apply (persongen train output, or a reference SVDiff checkpoint folder with unet.bin/text_encoder.bin)." };

    /// <summary><c>--steps</c>: sampling steps.</summary>
    public static Option<int> Steps() => new("--steps") { Description = "Sampling steps.", DefaultValueFactory = _ => 50 };

    /// <summary><c>-n</c>: images to write.</summary>
    public static Option<int> ImageCount(string description) => new("-n", "--num-images") { Description = description, DefaultValueFactory = _ => 1 };

    /// <summary><c>--height</c>: image height.</summary>
    public static Option<int?> Height() => new("--height") { Description = "Image height (default: the model's native size)." };

    /// <summary><c>--width</c>: image width.</summary>
    public static Option<int?> Width() => new("--width") { Description = "Image width (default: the model's native size)." };

    /// <summary><c>--out</c>: the output folder.</summary>
    public static Option<string> Output(string description) => new("--out") { Description = description, DefaultValueFactory = _ => "out" };

    /// <summary><c>--init-latents</c>: x_T from a file.</summary>
    public static Option<string?> InitLatents() => new("--init-latents") { Description = "Safetensors file whose tensor 'latents' (N,C,h,w) is the unscaled draw; x_T = latents × the scheduler's init sigma.", HelpName = "FILE" };

    /// <summary><c>--no-decode</c>: latents only.</summary>
    public static Option<bool> NoDecode() => new("--no-decode") { Description = "Skip VAE decoding and PNG output (latents only)." };

    /// <summary><c>--batch-size</c>: images denoised at once.</summary>
    public static Option<int?> BatchSize() => new("--batch-size") { Description = "Images denoised at once; -n only sets how many are written (default: four 512x512 images' worth of pixels on CPU, eight on GPU). Results do not depend on it." };

    /// <summary>The batch size a command line asks for (null: the model's memory-bound default, known once it is loaded).</summary>
    /// <exception cref="InvalidInputException">A batch size below 1.</exception>
    public static int? BatchSize(ParseResult parseResult, Option<int?> batchSize) =>
        parseResult.GetValue(batchSize) is < 1 and var bad ? throw new InvalidInputException($"--batch-size {bad} must be at least 1") : parseResult.GetValue(batchSize);

    /// <summary><c>--scheduler ddim|euler|dpmpp-2m</c>: the schedulers we implement, configured from the folder's scheduler config.</summary>
    public static Option<string?> Scheduler()
    {
        var option = new Option<string?>("--scheduler")
        {
            Description = "Sampling scheduler: ddim (default), euler or dpmpp-2m (DPM-Solver++ 2M); each reads the model folder's scheduler config as diffusers' from_config does.",
        };
        option.AcceptOnlyFromAmong([.. SchedulerChoice.Names]);
        return option;
    }

    /// <summary><c>--karras</c>: Karras noise levels for the σ schedulers.</summary>
    public static Option<bool> Karras() => new("--karras") { Description = "Karras et al. (2022) noise levels (use_karras_sigmas) for euler and dpmpp-2m." };

    /// <summary>The scheduler a command line asks for (DDIM when --scheduler is absent).</summary>
    public static SchedulerChoice Choice(ParseResult parseResult, Option<string?> scheduler, Option<bool> karras) =>
        SchedulerChoice.Parse(parseResult.GetValue(scheduler) ?? SchedulerChoice.Default.Name, parseResult.GetValue(karras));

    /// <summary>Says, as a warning, when the folder names another scheduler and none was asked for explicitly.</summary>
    public static void WarnAboutScheduler(IAnsiConsole console, StableDiffusionModel model, string? requested)
    {
        if (requested is null && model.SchedulerClass != "DDIMScheduler")
            console.MarkupLineInterpolated($"[yellow]warning:[/] the model folder names {model.SchedulerClass}; sampling with DDIM using its beta settings (pass --scheduler ddim to silence this, or --scheduler euler|dpmpp-2m)");
    }
}
