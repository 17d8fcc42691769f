using System.Globalization;
using PersonGen.IO;
using PersonGen.Training.Formats;
using PersonGen.Training.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Training;

/// <summary>
/// A concept file: only the trained tensors plus metadata (<c>method</c>, <c>base_model</c>, <c>token</c>,
/// <c>class</c>, <c>step</c>, method options), as one safetensors file. <see cref="Load"/> also reads files
/// without our metadata (diffusers/PEFT LoRA, <c>learned_embeds</c>, Custom Diffusion weights) and the reference
/// code's SVDiff checkpoint folders (<c>unet.bin</c> / <c>text_encoder.bin</c> pickles of <c>&lt;path&gt;.delta</c>), and
/// other tools' files: kohya/A1111 and diffusers attention-processor LoRAs (<see cref="LoraFiles"/>), A1111/ComfyUI
/// embeddings (<see cref="EmbeddingFiles"/>).
/// </summary>
public sealed class ConceptCheckpoint : IDisposable
{
    public const string MethodKey = "method", BaseModelKey = "base_model", TokenKey = "token", ClassKey = "class", StepKey = "step";

    private ConceptCheckpoint(string source, IReadOnlyDictionary<string, string> metadata, Dictionary<string, Tensor> tensors)
    {
        Source = source;
        Metadata = metadata;
        Tensors = tensors;
        Method = metadata.TryGetValue(MethodKey, out var method) ? method : InferMethod(source, tensors);
    }

    public string Source { get; }
    public string Method { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    public string? Token => Metadata.GetValueOrDefault(TokenKey);

    /// <summary>Scale of a LoRA's update, from a <c>file.safetensors:0.8</c> suffix (1 without one).</summary>
    public double Multiplier { get; private set; } = 1;
    public long? Step => Metadata.TryGetValue(StepKey, out var s) && long.TryParse(s, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>A snapshot (copies) of what <paramref name="delta"/> trained, with metadata.</summary>
    public static ConceptCheckpoint FromDelta(ConceptDelta delta, string? baseModel = null, string? token = null,
        string? className = null, long? step = null)
    {
        var metadata = new Dictionary<string, string>(delta.MethodMetadata, StringComparer.Ordinal) { [MethodKey] = delta.Method };
        if (baseModel is not null) metadata[BaseModelKey] = baseModel;
        if (token is not null) metadata[TokenKey] = token;
        if (className is not null) metadata[ClassKey] = className;
        if (step is not null) metadata[StepKey] = step.Value.ToString(CultureInfo.InvariantCulture);
        var tensors = delta.TrainedTensors().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone(), StringComparer.Ordinal);
        return new ConceptCheckpoint("(memory)", metadata, tensors);
    }

    /// <summary>Writes the concept as one safetensors file (atomically).</summary>
    public void Save(string path) => SafetensorsFile.Save(path, Tensors, Metadata);

    /// <summary>
    /// Reads a concept: a <c>.safetensors</c> file, a reference <c>.bin</c> pickle of SVDiff deltas, or a reference
    /// checkpoint folder holding <c>unet.bin</c> and/or <c>text_encoder.bin</c>, an A1111 <c>.pt</c> embedding. A
    /// <c>:0.8</c> after a path that exists sets <see cref="Multiplier"/>.
    /// </summary>
    /// <exception cref="InvalidCheckpointException">Missing, unreadable or not a concept.</exception>
    public static ConceptCheckpoint Load(string path)
    {
        int colon = path.LastIndexOf(':');
        if (!Path.Exists(path) && colon > 0 && Path.Exists(path[..colon])
            && double.TryParse(path[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double multiplier))
        {
            var scaled = Load(path[..colon]);
            scaled.Multiplier = multiplier;
            return scaled;
        }
        if (Directory.Exists(path)) return LoadReferenceFolder(path);
        if (!File.Exists(path)) throw new InvalidCheckpointException(path, "no such concept file or folder: pass the .safetensors file written by 'persongen train'");
        if (path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) && EmbeddingFiles.ReadPickle(path) is { } rows)
            return Embedding(path, rows, new Dictionary<string, string>());
        if (path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase))
        {
            string component = Path.GetFileNameWithoutExtension(path) == "text_encoder" ? ConceptModel.TextEncoderComponent : ConceptModel.UnetComponent;
            return new ConceptCheckpoint(path, new Dictionary<string, string> { [MethodKey] = "svdiff" }, ReadDeltaPickle(path, component));
        }
        using var file = SafetensorsFile.Open(path);
        var tensors = file.ReadAll();
        if (tensors.Count == 0) throw new InvalidCheckpointException(path, "holds no tensors: pass a trained concept file");
        if (tensors.Count == 1 && EmbeddingFiles.Rows(tensors) is { } embedding) return Embedding(path, embedding, file.Metadata);
        return new ConceptCheckpoint(path, new Dictionary<string, string>(file.Metadata, StringComparer.Ordinal), tensors);
    }

    /// <summary>An A1111/ComfyUI embedding as a textual-inversion concept whose token is the file name (unless metadata names one).</summary>
    private static ConceptCheckpoint Embedding(string path, Tensor rows, IReadOnlyDictionary<string, string> metadata)
    {
        string token = metadata.GetValueOrDefault(TokenKey) ?? EmbeddingFiles.TriggerWord(path);
        var info = new Dictionary<string, string>(metadata, StringComparer.Ordinal) { [MethodKey] = "textual-inversion", [TokenKey] = token };
        return new ConceptCheckpoint(path, info, new Dictionary<string, Tensor>(StringComparer.Ordinal) { [token] = rows });
    }

    private static ConceptCheckpoint LoadReferenceFolder(string folder)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var component in new[] { ConceptModel.UnetComponent, ConceptModel.TextEncoderComponent })
        {
            string file = Path.Combine(folder, component + ".bin");
            if (File.Exists(file)) foreach (var kv in ReadDeltaPickle(file, component)) tensors.Add(kv.Key, kv.Value);
        }
        if (tensors.Count == 0)
            throw new InvalidCheckpointException(folder, "holds neither unet.bin nor text_encoder.bin: pass a reference SVDiff checkpoint folder or a .safetensors concept");
        return new ConceptCheckpoint(folder, new Dictionary<string, string> { [MethodKey] = "svdiff" }, tensors);
    }

    /// <summary>Reads a torch.save'd {name: δ} dict, keeping the <c>.delta</c> entries, keys prefixed by the component.</summary>
    private static Dictionary<string, Tensor> ReadDeltaPickle(string path, string component)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in PickleCheckpoint.Load(path))
        {
            if (name.Contains(".delta", StringComparison.Ordinal)) result[$"{component}.{name}"] = tensor;
            else tensor.Dispose();
        }
        if (result.Count == 0) throw new InvalidCheckpointException(path, "holds no '<module path>.delta' tensors: it is not an SVDiff checkpoint");
        return result;
    }

    private static string InferMethod(string source, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var keys = tensors.Keys.ToList();
        if (keys.All(k => k.EndsWith(".delta", StringComparison.Ordinal))) return "svdiff";
        if (LoraFiles.Detect(keys) is not null) return "lora";
        if (keys.Any(k => k.Contains("_custom_diffusion", StringComparison.Ordinal))) return "custom-diffusion";
        if (keys.Count == 1) return "textual-inversion";
        throw new InvalidCheckpointException(source, "has no 'method' metadata and its tensor names match no known concept format: pass a file written by 'persongen train'");
    }

    /// <summary>
    /// Builds the method's delta on <paramref name="model"/>, loads the trained tensors, fuses them for inference and
    /// switches it on. Keep the returned delta to switch the concept off (<see cref="Models.IWeightDelta.Enabled"/>).
    /// </summary>
    /// <exception cref="ModelLoadException">The checkpoint does not fit the model (another base architecture).</exception>
    public ConceptDelta ApplyTo(ConceptModel model)
    {
        bool hasTextEncoder = Tensors.Keys.Any(k => k.StartsWith(ConceptModel.TextEncoderComponent + ".", StringComparison.Ordinal));
        if (hasTextEncoder && model.TextEncoder is null)
            throw new ModelLoadException($"{Source}: the concept changes the text encoder but the model has none: load the base model with its text encoder");
        if (Multiplier != 1 && Method != "lora")
            throw new InvalidInputException($"{Source}: a multiplier (':{Multiplier.ToString(CultureInfo.InvariantCulture)}') scales LoRA concepts only, not a {Method} concept: drop it");
        var loraLayers = Method == "lora" ? LoraFiles.Read(Tensors, Metadata, Source, model) : null;
        ConceptDelta delta = Method switch
        {
            "svdiff" => new SvdiffDelta(model, hasTextEncoder,
                qkvOnly: Tensors.Keys.All(k => new[] { "to_q", "to_k", "to_v", "q_proj", "k_proj", "v_proj" }.Any(k.Contains))),
            "lora" => new LoraLayersDelta(model, loraLayers!, Multiplier),
            "dreambooth" or "full" => new DreamBoothDelta(model,
                Metadata.GetValueOrDefault("scope") == "all" || Method == "full" ? DreamBoothScope.AllParameters : DreamBoothScope.QkvProjections,
                hasTextEncoder, method: Method),
            "custom-diffusion" => new CustomDiffusionDelta(model, TokenOrSingleKey(k => !k.Contains('.')), null,
                Tensors.Keys.Any(k => k.Contains("to_q_custom_diffusion", StringComparison.Ordinal)), requireNewToken: false),
            "textual-inversion" => new TextualInversionDelta(model, TokenOrSingleKey(_ => true), null,
                vectors: SingleEmbedding() is { } rows && rows.dim() == 2 ? (int)rows.shape[0] : 1, requireNewToken: false),
            _ => throw new InvalidCheckpointException(Source, $"unknown concept method '{Method}': expected svdiff, dreambooth, full, custom-diffusion, textual-inversion or lora"),
        };
        try
        {
            delta.LoadTrainedTensors(loraLayers is null ? NormalizedTensors(delta) : LoraFiles.Canonical(loraLayers), Source);
            delta.Fuse();
            return delta;
        }
        catch (Exception e)
        {
            delta.Enabled = false;
            delta.Dispose();
            if (e is ModelLoadException && Metadata.TryGetValue(BaseModelKey, out var baseModel))
                throw new ModelLoadException($"{e.Message.TrimEnd('.')} (the concept was trained on the base model '{baseModel}': pass that as `model`)", e);
            throw;
        }
    }

    private string TokenOrSingleKey(Func<string, bool> isTokenKey) =>
        Token ?? Tensors.Keys.Where(isTokenKey).SingleOrDefault()
        ?? throw new InvalidCheckpointException(Source, "does not say which placeholder token it learned: add 'token' metadata or store the embedding under the token's name");

    private Tensor SingleEmbedding() => Tensors.Count == 1
        ? Tensors.Values.Single()
        : Tensors[TokenOrSingleKey(_ => true)];

    /// <summary>learned_embeds files may hold a single vector [D]; the delta keeps rows [n, D].</summary>
    private Dictionary<string, Tensor> NormalizedTensors(ConceptDelta delta) =>
        Tensors.ToDictionary(kv => kv.Key,
            kv => kv.Value.dim() == 1 && delta.Trainables.TryGetValue(kv.Key, out var p) && p.dim() == 2 ? kv.Value.unsqueeze(0) : kv.Value,
            StringComparer.Ordinal);

    public void Dispose()
    {
        foreach (var tensor in Tensors.Values) tensor.Dispose();
    }
}
