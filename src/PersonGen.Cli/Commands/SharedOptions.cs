using System.CommandLine;
using PersonGen.Diffusion;
using PersonGen.Diffusion.Schedulers;
using Spectre.Console;

namespace PersonGen.Cli.Commands;

/// <summary>Options and notices shared by the sampling commands.</summary>
internal static class SharedOptions
{
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
