using PersonGen.Diffusion.Schedulers;

namespace PersonGen.Diffusion;

/// <summary>A text-to-image request; serialized into every PNG it produces so the image can be replayed.</summary>
public sealed record GenerationRequest
{
    public required string Prompt { get; init; }
    public string NegativePrompt { get; init; } = "";
    public int Steps { get; init; } = 50;
    public double Guidance { get; init; } = 7.5;
    public long Seed { get; init; }
    public int ImageCount { get; init; } = 1;

    /// <summary>Image height in pixels; null = the model's native size.</summary>
    public int? Height { get; init; }

    /// <summary>Image width in pixels; null = the model's native size.</summary>
    public int? Width { get; init; }

    /// <summary>The sampling scheduler (DDIM by default).</summary>
    public SchedulerChoice Scheduler { get; init; } = SchedulerChoice.Default;

    /// <summary>Checks ranges; throws <see cref="InvalidInputException"/> naming the option.</summary>
    public void Validate()
    {
        if (Steps < 1) throw new InvalidInputException($"`steps` must be at least 1 (got {Steps})");
        if (ImageCount < 1) throw new InvalidInputException($"`image_count` must be at least 1 (got {ImageCount})");
        if (Guidance < 0 || !double.IsFinite(Guidance)) throw new InvalidInputException($"`guidance` must be a finite number >= 0 (got {Guidance})");
        if (Seed < 0) throw new InvalidInputException($"`seed` must be >= 0 (got {Seed})");
        Scheduler.Validate();
    }
}
