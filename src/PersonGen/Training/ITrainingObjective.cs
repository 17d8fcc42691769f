using static TorchSharp.torch;

namespace PersonGen.Training;

/// <summary>
/// The loss of one micro-batch. All randomness (batch choice, noise, timesteps, augmentation) must come from
/// the generator (seeded from the run seed and the step), so a resumed run replays the same data.
/// </summary>
public interface ITrainingObjective
{
    /// <summary>A scalar loss with a graph back to the model's parameters.</summary>
    Tensor Loss(long step, int microStep, Generator generator);
}
