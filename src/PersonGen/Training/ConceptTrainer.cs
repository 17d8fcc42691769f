using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.Training;

/// <summary>
/// Trains a <see cref="ConceptDelta"/> against an <see cref="ITrainingObjective"/>: AdamW over the delta's groups,
/// warm-up, clipping, accumulation, periodic checkpoints and resume. Each micro-batch draws from a generator seeded
/// by (seed, step, micro-step), so data order and noise do not depend on where a run started; a checkpoint holds the
/// trained tensors and the AdamW state (moments, step count), so a resumed run equals an uninterrupted one.
/// Layout under the output folder: <c>checkpoint-&lt;step&gt;/{concept.safetensors, optimizer.bin, trainer.json}</c>
/// and the final <c>concept.safetensors</c>.
/// </summary>
public sealed class ConceptTrainer : IDisposable
{
    public const string ConceptFileName = "concept.safetensors";
    private const string OptimizerFileName = "optimizer.bin", StateFileName = "trainer.json";
    private readonly ConceptDelta _delta;
    private readonly ITrainingObjective _objective;
    private readonly TrainingOptions _options;
    private readonly string? _outputDirectory;
    private readonly AdamW _optimizer;
    private readonly double[] _baseRates;
    private readonly (string? BaseModel, string? Token, string? ClassName) _info;

    /// <para>outputDirectory: Where checkpoints go; null keeps everything in memory.</para>
    public ConceptTrainer(ConceptDelta delta, ITrainingObjective objective, TrainingOptions options,
        string? outputDirectory = null, string? baseModel = null, string? token = null, string? className = null)
    {
        if (options.Steps < 0) throw new InvalidInputException($"`steps` {options.Steps} must not be negative");
        if (options.GradientAccumulation < 1) throw new InvalidInputException($"gradient accumulation {options.GradientAccumulation} must be at least 1");
        _delta = delta;
        _objective = objective;
        _options = options;
        _outputDirectory = outputDirectory;
        _info = (baseModel, token, className);
        var groups = delta.Groups;
        if (groups.Count == 0) throw new PersonGenException($"the {delta.Method} concept has nothing to train: check the model has the layers the method targets");
        _baseRates = groups.Select(g => g.LearningRate * options.LearningRateScale).ToArray();
        var paramGroups = groups.Select((g, i) => new AdamW.ParamGroup(g.Parameters, new AdamW.Options
        {
            LearningRate = _baseRates[i],
            beta1 = options.Beta1,
            beta2 = options.Beta2,
            eps = options.Epsilon,
            weight_decay = options.WeightDecay,
        })).ToList();
        _optimizer = torch.optim.AdamW(paramGroups, _baseRates[0], options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay);
    }

    /// <summary>Optimizer steps done so far.</summary>
    public long Step { get; private set; }

    /// <summary>
    /// Called after each optimizer step (and its checkpoint) with the step number, while the model shows the updated
    /// concept (e.g. to write validation images); it must not change the trained tensors.
    /// </summary>
    public Action<long>? StepCompleted { get; set; }

    /// <summary>Continues from the newest checkpoint in the output folder, if there is one; returns its step (0 if none).</summary>
    public long Resume()
    {
        var latest = _outputDirectory is null ? null : LatestCheckpoint(_outputDirectory);
        if (latest is null) return Step = 0;
        using (var checkpoint = ConceptCheckpoint.Load(Path.Combine(latest.Directory, ConceptFileName)))
            _delta.LoadTrainedTensors(checkpoint.Tensors, checkpoint.Source);
        _optimizer.load_state_dict(Path.Combine(latest.Directory, OptimizerFileName));
        return Step = latest.Step;
    }

    /// <summary>Runs until <see cref="TrainingOptions.Steps"/>; returns the mean loss of the last step (NaN if none ran).</summary>
    /// <exception cref="OperationCanceledException">Cancelled between steps (the last checkpoint stays resumable).</exception>
    public double Train(IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        _delta.PrepareForTraining();
        double lastLoss = double.NaN;
        var clock = Stopwatch.StartNew();
        long firstStep = Step;
        while (Step < _options.Steps)
        {
            cancellation.ThrowIfCancellationRequested();
            lastLoss = RunStep();
            Step++;
            string? checkpoint = null;
            if (_outputDirectory is not null && _options.CheckpointEvery > 0 && Step % _options.CheckpointEvery == 0 && Step < _options.Steps)
                checkpoint = SaveCheckpoint();
            if (Step == _options.Steps && _outputDirectory is not null) checkpoint = SaveFinal();
            StepCompleted?.Invoke(Step);
            progress?.Report(new TrainingProgress(Step, _options.Steps, lastLoss, (Step - firstStep) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), checkpoint));
        }
        return lastLoss;
    }

    private double RunStep()
    {
        double loss = AccumulateGradients();
        // Outside any dispose scope: AdamW creates its moment tensors lazily in the first step() and keeps them.
        _optimizer.step();
        _optimizer.zero_grad();
        // The model must show the updated tensors between steps (outputs, checkpoints, cancellation).
        _delta.Apply();
        return loss;
    }

    private double AccumulateGradients()
    {
        using var scope = torch.NewDisposeScope();
        double factor = _options.WarmupSteps > 0 && Step < _options.WarmupSteps ? (double)Step / _options.WarmupSteps : 1.0;
        for (int i = 0; i < _optimizer.ParamGroups.Count(); i++) _optimizer.ParamGroups.ElementAt(i).LearningRate = _baseRates[i] * factor;
        double lossSum = 0;
        for (int micro = 0; micro < _options.GradientAccumulation; micro++)
        {
            using var microScope = torch.NewDisposeScope();
            using var generator = new torch.Generator(StepSeed(micro));
            var loss = _objective.Loss(Step, micro, generator);
            if (!float.IsFinite(loss.item<float>()))
                throw new PersonGenException($"the training loss became {loss.item<float>()} at step {Step}: lower the learning rate (`lr`)");
            lossSum += loss.item<float>();
            (loss / _options.GradientAccumulation).backward();
        }
        _delta.PropagateGradients();
        var parameters = _delta.Groups.SelectMany(g => g.Parameters).ToList();
        if (_options.MaxGradNorm > 0) torch.nn.utils.clip_grad_norm_(parameters, _options.MaxGradNorm);
        return lossSum / _options.GradientAccumulation;
    }

    private ulong StepSeed(int micro) =>
        unchecked((ulong)_options.Seed * 0x9E3779B97F4A7C15UL + (ulong)Step * 1_000_003UL + (ulong)micro);

    private string SaveCheckpoint()
    {
        string final = Path.Combine(_outputDirectory!, $"checkpoint-{Step.ToString(CultureInfo.InvariantCulture)}");
        string temp = final + ".partial";
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        using (var snapshot = ConceptCheckpoint.FromDelta(_delta, _info.BaseModel, _info.Token, _info.ClassName, Step))
            snapshot.Save(Path.Combine(temp, ConceptFileName));
        _optimizer.save_state_dict(Path.Combine(temp, OptimizerFileName));
        File.WriteAllText(Path.Combine(temp, StateFileName), JsonSerializer.Serialize(new TrainerState(Step, _options.RunSettings)));
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(temp, final);
        return final;
    }

    private string SaveFinal()
    {
        string path = Path.Combine(_outputDirectory!, ConceptFileName);
        using var snapshot = ConceptCheckpoint.FromDelta(_delta, _info.BaseModel, _info.Token, _info.ClassName, Step);
        snapshot.Save(path);
        return path;
    }

    /// <summary>The newest complete checkpoint under <paramref name="outputDirectory"/> (null if none): its folder, step and recorded run settings.</summary>
    public static TrainerCheckpoint? LatestCheckpoint(string outputDirectory)
    {
        if (!Directory.Exists(outputDirectory)) return null;
        string? newest = Directory.EnumerateDirectories(outputDirectory, "checkpoint-*")
            .Select(d => (Dir: d, Ok: long.TryParse(Path.GetFileName(d)["checkpoint-".Length..], CultureInfo.InvariantCulture, out var s), Step: s))
            .Where(c => c.Ok && File.Exists(Path.Combine(c.Dir, StateFileName)))
            .OrderByDescending(c => c.Step).Select(c => c.Dir).FirstOrDefault();
        if (newest is null) return null;
        var state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(Path.Combine(newest, StateFileName)))!;
        return new TrainerCheckpoint(newest, state.Step, state.Settings ?? new Dictionary<string, string>());
    }

    /// <summary>trainer.json: the step and the run's settings (absent in checkpoints written before settings were recorded).</summary>
    private sealed record TrainerState(
        [property: JsonPropertyName("step")] long Step,
        [property: JsonPropertyName("settings")] IReadOnlyDictionary<string, string>? Settings);

    public void Dispose() => _optimizer.Dispose();
}
