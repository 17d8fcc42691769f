using PersonGen.Diffusion.Schedulers;

namespace PersonGen.Diffusion;

/// <summary>
/// What a guidance rule may know about the current step: its position, model timestep, the schedule (of trajectory 0)
/// and the run. Rules index steps by <see cref="Index"/>, never by timestep, so they work under every scheduler.
/// </summary>
public sealed record StepContext(int Index, int Count, double Timestep, IScheduler Schedule, DenoisingRun Run);
