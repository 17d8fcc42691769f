using static TorchSharp.torch;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>A per-run sampling schedule, indexed by step position (0 = the noisiest step).</summary>
public interface IScheduler
{
    IReadOnlyList<long> Timesteps { get; }
    double InitNoiseSigma { get; }
    Tensor ScaleModelInput(Tensor sample, int stepIndex);
    SchedulerStepResult Step(int stepIndex, Tensor modelOutput, Tensor sample, double eta = 0, Generator? generator = null);
    double AlphaCumprod(int stepIndex);
    double AlphaCumprodPrev(int stepIndex);
    Tensor ToEpsilon(Tensor modelOutput, Tensor sample, int stepIndex);
}

public sealed record SchedulerStepResult(Tensor PrevSample, Tensor PredOriginalSample);
