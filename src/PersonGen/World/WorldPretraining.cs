using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using PersonGen.Diffusion.Schedulers;
using PersonGen.IO;
using PersonGen.Models.Clip;
using PersonGen.Models.Unet;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.World;

/// <summary>
/// Trains the built-in world's base model from scratch: all UNet and text-encoder parameters, v-prediction MSE on
/// <see cref="ShapesWorld"/> samples (10% empty captions) noised by DDPM, AdamW with warm-up and clipping, and an
/// EMA of the weights that becomes the shipped model. Step n always sees samples n·B … n·B + B − 1 of the world's
/// stream and noise from a generator seeded by (seed, n), so a resumed run equals an uninterrupted one.
/// Output folder: the diffusers layout of <see cref="WorldModelLayout"/> (EMA weights, written at the end, with the concept tokens' rows set by <see cref="WorldModelLayout.WithConceptTokenRows"/>),
/// <c>loss.csv</c> (NaN marks a skipped step), and the newest resumable <c>checkpoint-&lt;step&gt;/</c> (raw and EMA weights, AdamW state).
/// </summary>
public sealed class WorldPretraining : IDisposable
{
    private const string StateFileName = "state.json", OptimizerFileName = "optimizer.bin", WeightsFileName = "weights.safetensors", EmaFileName = "ema.safetensors";
    private const string UnetPrefix = "unet.", TextPrefix = "text_encoder.";

    // A step whose loss or gradient norm is not finite is skipped (no update), as mixed-precision loss scalers do;
    // this many in a row means the weights are broken.
    private const int MaxSkippedInARow = 20;
    private static readonly JsonSerializerOptions StateJson = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private readonly string _folder;
    private readonly WorldPretrainingOptions _options;
    private readonly ShapesWorld _world;
    private readonly ClipTokenizer _tokenizer;
    private readonly NoiseSchedule _schedule;
    private readonly UNet2DConditionModel _unet;
    private readonly ClipTextModel _textEncoder;
    private readonly List<(string Name, Parameter Parameter)> _parameters;
    private readonly Dictionary<string, Tensor> _ema = new(StringComparer.Ordinal);
    private readonly AdamW _optimizer;
    private readonly List<double> _losses = [];
    private int _skippedInARow;

    /// <summary>
    /// Prepares a run in <paramref name="folder"/>: with <paramref name="resume"/>, continues from its newest
    /// checkpoint (or starts when it has none); without, the folder must not hold a run yet.
    /// </summary>
    /// <exception cref="InvalidInputException">Bad options, a run already in the folder without resume, or a checkpoint of other settings.</exception>
    public WorldPretraining(string folder, WorldPretrainingOptions options, bool resume)
    {
        _options = options.Validate();
        _folder = Path.GetFullPath(folder);
        string? latest = LatestCheckpoint(_folder);
        if (!resume && (latest is not null || File.Exists(Path.Combine(_folder, "model_index.json"))))
            throw new InvalidInputException($"{folder} already holds a pretraining run: pass --resume to continue it or choose another --out");
        if (latest is null) WorldModelLayout.WriteConfigs(_folder, options.ImageSize);

        _world = new ShapesWorld(options.ImageSize);
        _tokenizer = ClipTokenizer.FromFolder(Path.Combine(_folder, "tokenizer"));
        _schedule = new NoiseSchedule(WorldModelLayout.LoadScheduler(_folder));
        torch.manual_seed(options.Seed);
        (_unet, _textEncoder) = WorldModelLayout.CreateModels(_folder);
        _parameters = [.. _unet.named_parameters().Select(p => (UnetPrefix + p.name, p.parameter)),
            .. _textEncoder.named_parameters().Select(p => (TextPrefix + p.name, p.parameter))];
        using (no_grad())
        {
            foreach (var (name, parameter) in _parameters) _ema[name] = parameter.detach().clone();
        }
        _optimizer = torch.optim.AdamW(_parameters.Select(p => p.Parameter), options.LearningRate, options.Beta1, options.Beta2,
            1e-8, options.WeightDecay);
        if (latest is not null) LoadCheckpoint(latest);
    }

    /// <summary>Steps done so far.</summary>
    public long Step { get; private set; }

    /// <summary>Loss of every step done so far (index = step − 1).</summary>
    public IReadOnlyList<double> Losses => _losses;

    /// <summary>
    /// Trains until <see cref="WorldPretrainingOptions.Steps"/>, then writes the EMA weights as the model folder's
    /// weights and <c>loss.csv</c>. Returns the model folder.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled between steps; the newest checkpoint stays resumable.</exception>
    /// <exception cref="PersonGenException">The loss became NaN or infinite.</exception>
    public string Train(IProgress<WorldPretrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        _unet.train();
        _textEncoder.train();
        var clock = Stopwatch.StartNew();
        long firstStep = Step;
        while (Step < _options.Steps)
        {
            cancellation.ThrowIfCancellationRequested();
            double loss = ComputeGradients();
            if (double.IsFinite(loss))
            {
                // Outside any dispose scope: AdamW creates its moment tensors in the first step() and keeps them.
                _optimizer.step();
                UpdateEma();
                _skippedInARow = 0;
            }
            else if (++_skippedInARow >= MaxSkippedInARow)
            {
                throw new PersonGenException($"the pretraining loss or gradient was not finite for {MaxSkippedInARow} steps in a row at step {Step}: lower the learning rate or resume from an earlier checkpoint");
            }
            _optimizer.zero_grad();
            _losses.Add(loss);
            Step++;
            string? checkpoint = null;
            if (Step == _options.Steps || (_options.CheckpointEvery > 0 && Step % _options.CheckpointEvery == 0))
                checkpoint = SaveCheckpoint();
            progress?.Report(new WorldPretrainingProgress(Step, _options.Steps, loss,
                (Step - firstStep) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), checkpoint));
        }
        SaveModel();
        return _folder;
    }

    private double ComputeGradients()
    {
        using var scope = NewDisposeScope();
        double warmup = _options.WarmupSteps > 0 && Step < _options.WarmupSteps ? (Step + 1.0) / _options.WarmupSteps : 1.0;
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = _options.LearningRate * warmup;

        var samples = _world.Samples(_options.Seed, Step * _options.BatchSize, _options.BatchSize).ToArray();
        var bitmaps = samples.Select(s => _world.Renderer.Render(s.Scene)).ToArray();
        Tensor images;
        try
        {
            images = ShapesTensors.ToTensor(bitmaps);
        }
        finally
        {
            foreach (var bitmap in bitmaps) bitmap.Dispose();
        }
        var ids = _tokenizer.EncodeBatch(samples.Select(s => s.Caption).ToArray());
        using var generator = new Generator(StepSeed());
        var noise = randn(images.shape, generator: generator);
        var timesteps = randint(0, _schedule.TrainTimesteps, [images.shape[0]], dtype: ScalarType.Int64, generator: generator);
        var noisy = _schedule.AddNoise(images, noise, timesteps);
        var target = _schedule.Velocity(images, noise, timesteps);
        using var text = _textEncoder.forward(ids);
        var prediction = _unet.forward(noisy, timesteps, text.LastHiddenState);
        var loss = (prediction - target).square().mean();
        double value = loss.item<float>();
        if (!double.IsFinite(value)) return double.NaN;
        loss.backward();
        double norm = nn.utils.clip_grad_norm_(_parameters.Select(p => p.Parameter),
            _options.MaxGradNorm > 0 ? _options.MaxGradNorm : double.PositiveInfinity);
        return double.IsFinite(norm) ? value : double.NaN;
    }

    private void UpdateEma()
    {
        double decay = Math.Min(_options.EmaDecay, (1.0 + Step) / (10.0 + Step));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (name, parameter) in _parameters) _ema[name].mul_(decay).add_(parameter, alpha: 1 - decay);
    }

    private ulong StepSeed() => unchecked((ulong)_options.Seed * 0x9E3779B97F4A7C15UL + (ulong)Step * 1_000_003UL + 17UL);

    /// <summary>Writes checkpoint-&lt;step&gt;/ under a temporary name, moves it into place and drops older ones.</summary>
    private string SaveCheckpoint()
    {
        string final = Path.Combine(_folder, "checkpoint-" + Step.ToString(CultureInfo.InvariantCulture));
        string temp = final + ".partial";
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        SafetensorsFile.Save(Path.Combine(temp, WeightsFileName), _parameters.Select(p => new KeyValuePair<string, Tensor>(p.Name, p.Parameter)));
        SafetensorsFile.Save(Path.Combine(temp, EmaFileName), _ema);
        _optimizer.save_state_dict(Path.Combine(temp, OptimizerFileName));
        var state = new CheckpointState(Step, _options.Seed, _options.BatchSize, _options.ImageSize, [.. _losses]);
        File.WriteAllText(Path.Combine(temp, StateFileName), JsonSerializer.Serialize(state, StateJson));
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(temp, final);
        foreach (string older in CheckpointsIn(_folder).Where(c => c.Step < Step).Select(c => c.Dir))
            Directory.Delete(older, recursive: true);
        return final;
    }

    private void LoadCheckpoint(string directory)
    {
        var state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(Path.Combine(directory, StateFileName)), StateJson)
            ?? throw new InvalidCheckpointException(Path.Combine(directory, StateFileName), "empty state; delete the checkpoint folder to restart");
        if (state.Seed != _options.Seed || state.BatchSize != _options.BatchSize || state.ImageSize != _options.ImageSize)
            throw new InvalidInputException($"{directory} was trained with --seed {state.Seed} --batch-size {state.BatchSize} (image size {state.ImageSize}): resume with the same settings");
        LoadInto(Path.Combine(directory, WeightsFileName), _parameters.ToDictionary(p => p.Name, p => (Tensor)p.Parameter));
        LoadInto(Path.Combine(directory, EmaFileName), _ema);
        _optimizer.load_state_dict(Path.Combine(directory, OptimizerFileName));
        Step = state.Step;
        _losses.AddRange(state.Losses);
    }

    private static void LoadInto(string path, IReadOnlyDictionary<string, Tensor> targets)
    {
        var loaded = SafetensorsFile.Load(path);
        try
        {
            using var _ = no_grad();
            foreach (var (name, target) in targets)
            {
                if (!loaded.TryGetValue(name, out var value) || !value.shape.SequenceEqual(target.shape))
                    throw new InvalidCheckpointException(path, $"tensor {name} is missing or mis-shaped; delete the checkpoint folder to restart");
                target.copy_(value);
            }
        }
        finally
        {
            foreach (var tensor in loaded.Values) tensor.Dispose();
        }
    }

    /// <summary>The model folder's weights: the EMA of every parameter, buffers as trained.</summary>
    private void SaveModel()
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> Weights(nn.Module module, string prefix) =>
            module.state_dict().ToDictionary(kv => kv.Key, kv => _ema.TryGetValue(prefix + kv.Key, out var ema) ? ema : kv.Value);
        var text = Weights(_textEncoder, TextPrefix);
        text[WorldModelLayout.TokenEmbeddingName] = WorldModelLayout.WithConceptTokenRows(text[WorldModelLayout.TokenEmbeddingName], _tokenizer);
        WorldModelLayout.SaveWeights(_folder, Weights(_unet, UnetPrefix), text);
        var csv = new StringBuilder("step,loss\n");
        for (int i = 0; i < _losses.Count; i++) csv.Append(CultureInfo.InvariantCulture, $"{i + 1},{_losses[i]:R}\n");
        string path = Path.Combine(_folder, "loss.csv");
        File.WriteAllText(path + ".tmp", csv.ToString());
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private static string? LatestCheckpoint(string folder) =>
        CheckpointsIn(folder).OrderByDescending(c => c.Step).Select(c => c.Dir).FirstOrDefault();

    private static IEnumerable<(string Dir, long Step)> CheckpointsIn(string folder)
    {
        if (!Directory.Exists(folder)) yield break;
        foreach (string dir in Directory.EnumerateDirectories(folder, "checkpoint-*"))
        {
            if (long.TryParse(Path.GetFileName(dir)["checkpoint-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out long step)
                && File.Exists(Path.Combine(dir, StateFileName)))
                yield return (dir, step);
        }
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        foreach (var tensor in _ema.Values) tensor.Dispose();
        _unet.Dispose();
        _textEncoder.Dispose();
    }

    private sealed record CheckpointState(long Step, int Seed, int BatchSize, int ImageSize, List<double> Losses);
}
