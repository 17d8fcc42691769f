using static TorchSharp.torch;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// One scheduler step's outputs, each shaped like the sample: <see cref="PrevSample"/> x_{t−1} and the model's
/// current estimate of the clean sample <see cref="PredOriginalSample"/> x̂₀. Owns both tensors.
/// </summary>
public sealed record SchedulerStepResult(Tensor PrevSample, Tensor PredOriginalSample) : IDisposable
{
    public void Dispose()
    {
        PrevSample.Dispose();
        PredOriginalSample.Dispose();
    }
}
