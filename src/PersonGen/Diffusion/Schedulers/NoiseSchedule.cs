using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Diffusion.Schedulers;

/// <summary>
/// The training-time forward process q(x_t | x₀) of DDPM (Ho et al. 2020, Eq. 4): β and ᾱ per training timestep,
/// computed in float32 exactly as diffusers does, plus noise adding and the v-target for fine-tuning.
/// </summary>
public sealed class NoiseSchedule
{
    private readonly float[] _betas;
    private readonly float[] _alphasCumprod;

    /// <summary>Computes β and ᾱ from a scheduler config (its beta fields only).</summary>
    public NoiseSchedule(DdimConfig config)
        : this(ValidBetas(config))
    {
    }

    /// <summary>Computes β and ᾱ from the training noise levels.</summary>
    public NoiseSchedule(BetaConfig config)
    {
        config.Validate();
        using var scope = NewDisposeScope();
        var betas = ComputeBetas(config);
        if (config.RescaleBetasZeroSnr) betas = RescaleZeroTerminalSnr(betas);
        // ᾱ_t = ∏_{s≤t} (1 − β_s), torch's float32 cumprod (it accumulates in double on the CPU).
        var alphasCumprod = (1.0 - betas).cumprod(0);
        _betas = betas.data<float>().ToArray();
        _alphasCumprod = alphasCumprod.data<float>().ToArray();
    }

    /// <summary>The number of training timesteps T; timesteps are 0…T−1.</summary>
    public int TrainTimesteps => _betas.Length;

    /// <summary>β_t, float32 values widened exactly to double.</summary>
    public double Beta(long timestep) => _betas[CheckTimestep(timestep)];

    /// <summary>ᾱ_t, float32 values widened exactly to double.</summary>
    public double AlphaCumprod(long timestep) => _alphasCumprod[CheckTimestep(timestep)];

    /// <summary>β for all T timesteps, float32 (T).</summary>
    public Tensor Betas() => tensor(_betas);

    /// <summary>ᾱ for all T timesteps, float32 (T).</summary>
    public Tensor AlphasCumprod() => tensor(_alphasCumprod);

    internal float AlphaCumprodSingle(long timestep) => _alphasCumprod[CheckTimestep(timestep)];

    /// <summary>
    /// x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε for per-row timesteps. <paramref name="original"/> and <paramref name="noise"/> are
    /// (B, …); <paramref name="timesteps"/> is int64 (B).
    /// </summary>
    public Tensor AddNoise(Tensor original, Tensor noise, Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var (sqrtAlpha, sqrtOneMinusAlpha) = Coefficients(original, timesteps);
        return (sqrtAlpha * original + sqrtOneMinusAlpha * noise).MoveToOuterDisposeScope();
    }

    /// <summary>The v-prediction target v_t = √ᾱ_t·ε − √(1−ᾱ_t)·x₀ (Salimans &amp; Ho 2022), shapes as in <see cref="AddNoise"/>.</summary>
    public Tensor Velocity(Tensor sample, Tensor noise, Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var (sqrtAlpha, sqrtOneMinusAlpha) = Coefficients(sample, timesteps);
        return (sqrtAlpha * noise - sqrtOneMinusAlpha * sample).MoveToOuterDisposeScope();
    }

    /// <summary>Uniform random training timesteps in 0…T−1, int64 (batch), drawn on the CPU.</summary>
    public Tensor RandomTimesteps(long batch, Generator? generator = null) =>
        randint(0, TrainTimesteps, [batch], dtype: ScalarType.Int64, generator: generator);

    /// <summary>√ᾱ and √(1−ᾱ) for each row, shaped (B, 1, …, 1) to broadcast over <paramref name="like"/>.</summary>
    private (Tensor SqrtAlpha, Tensor SqrtOneMinusAlpha) Coefficients(Tensor like, Tensor timesteps)
    {
        if (timesteps.dtype != ScalarType.Int64 || timesteps.dim() != 1 || timesteps.shape[0] != like.shape[0])
            throw new InvalidInputException($"timesteps must be int64 with one entry per row ({like.shape[0]}), got {timesteps.dtype} [{string.Join(",", timesteps.shape)}]");
        long[] values = timesteps.cpu().data<long>().ToArray();
        foreach (long t in values) CheckTimestep(t);
        var alphas = AlphasCumprod().to(like.dtype, like.device)[timesteps.to(like.device)];
        long[] shape = [like.shape[0], .. Enumerable.Repeat(1L, (int)like.dim() - 1)];
        return (alphas.sqrt().reshape(shape), (1.0 - alphas).sqrt().reshape(shape));
    }

    private int CheckTimestep(long timestep) =>
        timestep >= 0 && timestep < _betas.Length
            ? (int)timestep
            : throw new InvalidInputException($"timestep {timestep} is outside 0…{_betas.Length - 1} of the training schedule");

    private static BetaConfig ValidBetas(DdimConfig config)
    {
        config.Validate();
        return config.Betas;
    }

    private static Tensor ComputeBetas(BetaConfig config)
    {
        int count = config.NumTrainTimesteps;
        if (config.TrainedBetas is { } trained) return tensor(trained.ToArray(), dtype: ScalarType.Float32);
        return config.BetaSchedule switch
        {
            BetaSchedule.Linear => tensor(ReferenceLinspace(config.BetaStart, config.BetaEnd, count)),
            BetaSchedule.ScaledLinear => tensor(ReferenceLinspace(Math.Sqrt(config.BetaStart), Math.Sqrt(config.BetaEnd), count)).square(),
            BetaSchedule.SquaredCosCapV2 => tensor(CosineBetas(count), dtype: ScalarType.Float32),
            _ => throw new ModelLoadException($"unsupported field beta_schedule = {config.BetaSchedule}"),
        };
    }

    /// <summary>
    /// float32 <c>torch.linspace</c> exactly as the reference computed it (PyTorch 1.13's AVX2 CPU kernel: 8-lane
    /// vectors built as base + j·step from a fused base = start + step·i, mirrored from the end past halfway).
    /// libtorch 2.x rounds some values 1 ulp differently; this keeps β and ᾱ bitwise equal to the goldens.
    /// </summary>
    private static float[] ReferenceLinspace(double start, double end, int steps)
    {
        float first = (float)start, last = (float)end;
        var values = new float[steps];
        if (steps == 1)
        {
            values[0] = first;
            return values;
        }
        float step = (last - first) / (steps - 1);
        int halfway = steps / 2;
        float At(int index) => index < halfway
            ? MathF.FusedMultiplyAdd(step, index, first)
            : MathF.FusedMultiplyAdd(-step, steps - index - 1, last);
        const int Lanes = 8;
        int position = 0;
        // Two vectors per iteration, as ATen's vectorized loop; the tail is computed element by element.
        for (; position <= steps - 2 * Lanes; position += 2 * Lanes)
        {
            for (int vector = position; vector < position + 2 * Lanes; vector += Lanes)
            {
                float vectorBase = At(vector);
                for (int lane = 0; lane < Lanes; lane++) values[vector + lane] = MathF.FusedMultiplyAdd(lane, step, vectorBase);
            }
        }
        for (; position < steps; position++) values[position] = At(position);
        return values;
    }

    /// <summary>β_t = min(1 − ᾱ(t+1)/ᾱ(t), 0.999) with ᾱ(t) = cos²((t/T + 0.008)/1.008 · π/2), in double like diffusers.</summary>
    private static double[] CosineBetas(int count)
    {
        static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
        var betas = new double[count];
        for (int i = 0; i < count; i++)
        {
            betas[i] = Math.Min(1 - AlphaBar((double)(i + 1) / count) / AlphaBar((double)i / count), 0.999);
        }
        return betas;
    }

    /// <summary>Shifts and scales √ᾱ so that √ᾱ_T = 0 while √ᾱ₀ is kept (arXiv 2305.08891, Algorithm 1), in float32.</summary>
    private static Tensor RescaleZeroTerminalSnr(Tensor betas)
    {
        var sqrtAlphaBar = (1.0 - betas).cumprod(0).sqrt();
        var first = sqrtAlphaBar[0].clone();
        var last = sqrtAlphaBar[-1].clone();
        sqrtAlphaBar = (sqrtAlphaBar - last) * (first / (first - last));
        var alphaBar = sqrtAlphaBar.square();
        var alphas = cat([alphaBar[..1], alphaBar[1..] / alphaBar[..^1]]);
        return 1.0 - alphas;
    }
}
