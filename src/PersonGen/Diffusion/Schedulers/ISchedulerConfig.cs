namespace PersonGen.Diffusion.Schedulers;

/// <summary>A scheduler's settings (a diffusers <c>scheduler_config.json</c>), which create a fresh stepper per run.</summary>
public interface ISchedulerConfig
{
    /// <summary>A new stepper for <paramref name="steps"/> inference steps, owned by one trajectory of one run.</summary>
    /// <exception cref="InvalidInputException">steps is not in 1…num_train_timesteps.</exception>
    IScheduler CreateSchedule(int steps);
}
