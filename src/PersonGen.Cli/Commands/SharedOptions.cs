using System.CommandLine;
using PersonGen.Diffusion;
using Spectre.Console;

namespace PersonGen.Cli.Commands;

/// <summary>Options and notices shared by the sampling commands.</summary>
internal static class SharedOptions
{
    /// <summary><c>--scheduler ddim</c>: the schedulers we implement (DDIM, whatever the folder's config names).</summary>
    public static Option<string?> Scheduler()
    {
        var option = new Option<string?>("--scheduler") { Description = "Sampling scheduler: ddim (default; the model folder's own scheduler settings are reused)." };
        option.AcceptOnlyFromAmong("ddim");
        return option;
    }

    /// <summary>Says, as a warning, when the folder names another scheduler and none was asked for explicitly.</summary>
    public static void WarnAboutScheduler(IAnsiConsole console, StableDiffusionModel model, string? requested)
    {
        if (requested is null && model.SchedulerClass != "DDIMScheduler")
            console.MarkupLineInterpolated($"[yellow]warning:[/] the model folder names {model.SchedulerClass}; sampling with DDIM using its beta settings (pass --scheduler ddim to silence this)");
    }
}
