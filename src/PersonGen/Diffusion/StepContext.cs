using PersonGen.Diffusion.Schedulers;

namespace PersonGen.Diffusion;

/// <summary>What a guidance rule may know about the current step: its position, timestep, schedule and run.</summary>
public sealed record StepContext(int Index, int Count, long Timestep, IScheduler Schedule, DenoisingRun Run);
