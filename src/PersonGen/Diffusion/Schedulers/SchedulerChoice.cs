using System.Text.Json;
using System.Text.Json.Serialization;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// Which scheduler samples a run, configured from the model folder's <c>scheduler_config.json</c> as diffusers'
/// <c>from_config</c> does: the folder's betas and prediction type, the scheduler's own defaults for keys it lacks.
/// </summary>
public sealed record SchedulerChoice
{
    /// <summary>DDIM with the folder's settings, as before schedulers could be chosen.</summary>
    public static SchedulerChoice Default { get; } = new();

    /// <summary>The scheduler names, as <see cref="Parse"/> accepts them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["ddim", "euler", "dpmpp-2m"];

    [JsonConverter(typeof(JsonStringEnumConverter<SchedulerKind>))]
    public SchedulerKind Kind { get; init; } = SchedulerKind.Ddim;

    /// <summary>Karras et al. (2022) noise levels (<c>use_karras_sigmas</c>); false keeps the folder config's value.</summary>
    public bool Karras { get; init; }

    /// <summary>The scheduler's name (ddim, euler, dpmpp-2m).</summary>
    public string Name => Names[(int)Kind];

    /// <summary>Reads a scheduler name and the Karras switch.</summary>
    /// <exception cref="InvalidInputException">An unknown name, or Karras sigmas for DDIM.</exception>
    public static SchedulerChoice Parse(string name, bool karras = false)
    {
        int index = Names.ToList().IndexOf(name);
        if (index < 0) throw new InvalidInputException($"scheduler '{name}' is not one of {string.Join(", ", Names)}");
        var choice = new SchedulerChoice { Kind = (SchedulerKind)index, Karras = karras };
        choice.Validate();
        return choice;
    }

    /// <exception cref="InvalidInputException">Karras sigmas were asked for with DDIM, which has no σ schedule.</exception>
    public void Validate()
    {
        if (Karras && Kind == SchedulerKind.Ddim)
            throw new InvalidInputException("karras sigmas need a σ scheduler (euler or dpmpp-2m); DDIM has none");
    }

    /// <summary>
    /// The scheduler config for a model: DDIM is <paramref name="ddim"/> itself (the folder's settings read as DDIM);
    /// Euler and DPM-Solver++ 2M read <paramref name="folderConfig"/> with their own defaults.
    /// </summary>
    /// <exception cref="ModelLoadException">The folder config holds a value the chosen scheduler does not implement.</exception>
    public ISchedulerConfig Configure(DdimConfig ddim, JsonElement folderConfig)
    {
        Validate();
        switch (Kind)
        {
            case SchedulerKind.Ddim:
                return ddim;
            case SchedulerKind.Euler:
                var euler = EulerConfig.Parse(folderConfig);
                return Karras ? euler with { UseKarrasSigmas = true } : euler;
            case SchedulerKind.DpmPlusPlus2M:
                var dpm = DpmSolverConfig.Parse(folderConfig) with { SolverOrder = 2 };
                return Karras ? dpm with { UseKarrasSigmas = true } : dpm;
            default:
                throw new InvalidOperationException($"scheduler {Kind}");
        }
    }

    public override string ToString() => Karras ? $"{Name} (karras)" : Name;
}
