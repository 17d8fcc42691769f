using System.Globalization;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Training.Formats;

/// <summary>
/// Reads and writes LoRA tensors in three layouts. PEFT (ours, diffusers'): <c>unet.&lt;path&gt;.lora_A.weight</c> /
/// <c>lora_B.weight</c>, alpha in the <c>lora_alpha</c> metadata. kohya (A1111, ComfyUI, kohya's trainer):
/// <c>lora_unet_&lt;path with _&gt;.lora_down.weight</c> / <c>.lora_up.weight</c> / <c>.alpha</c>, <c>lora_te_…</c> for
/// the text encoder. diffusers attention processors: <c>unet.&lt;attention&gt;.processor.to_q_lora.down.weight</c> /
/// <c>.up.weight</c>, <c>text_encoder.&lt;attention&gt;.to_q_lora…</c>, no alpha (scale 1).
/// </summary>
public static class LoraFiles
{
    private const string Down = "lora_down.weight", Up = "lora_up.weight", AlphaSuffix = "alpha";
    private const string AlphaKey = "lora_alpha", AlphaPrefix = "lora_alpha.";
    private static readonly string[] UnetProjections = ["to_q", "to_k", "to_v", "to_out"];
    private static readonly string[] TextProjections = ["q_proj", "k_proj", "v_proj", "out_proj"];

    /// <summary>The layout of a LoRA file from its tensor names, or null when it is not a LoRA.</summary>
    public static LoraLayout? Detect(IEnumerable<string> keys)
    {
        var list = keys as IReadOnlyCollection<string> ?? keys.ToList();
        if (list.Any(k => k.StartsWith(KohyaNames.UnetPrefix + "_", StringComparison.Ordinal) || k.StartsWith(KohyaNames.TextEncoderPrefix, StringComparison.Ordinal))) return LoraLayout.Kohya;
        if (list.Any(k => k.EndsWith("_lora.down.weight", StringComparison.Ordinal) || k.EndsWith("_lora.up.weight", StringComparison.Ordinal))) return LoraLayout.Diffusers;
        if (list.Any(k => k.Contains(".lora_A.", StringComparison.Ordinal))) return LoraLayout.Peft;
        return null;
    }

    /// <summary>The layers of a LoRA file; <paramref name="model"/> resolves kohya names (the other layouts need none).</summary>
    /// <exception cref="ModelLoadException">Keys that match no module, pairs without a partner, or a kohya file without a model.</exception>
    public static List<LoraLayer> Read(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata, string source, ConceptModel? model)
    {
        return Detect(tensors.Keys) switch
        {
            LoraLayout.Kohya => ReadKohya(tensors, source, new KohyaNames(model ?? throw new ModelLoadException($"{source}: kohya LoRA names are resolved against the model's modules: load it together with its base model"))),
            LoraLayout.Diffusers => Pair(tensors, source, key => ParseDiffusers(key), (_, rank) => rank),
            LoraLayout.Peft => Pair(tensors, source, ParsePeft, (layer, rank) =>
                metadata.TryGetValue(AlphaPrefix + layer, out var own) || metadata.TryGetValue(AlphaKey, out own) ? double.Parse(own, CultureInfo.InvariantCulture) : rank),
            _ => throw new ModelLoadException($"{source}: no LoRA tensors (lora_A/lora_B, lora_down/lora_up or *_lora.down/up): it is not a LoRA file"),
        };
    }

    /// <summary>The layers' tensors under their canonical keys, as <see cref="LoraLayersDelta"/> loads them.</summary>
    public static Dictionary<string, Tensor> Canonical(IEnumerable<LoraLayer> layers) =>
        layers.SelectMany(l => new[] { KeyValuePair.Create(l.DownKey, l.Down), KeyValuePair.Create(l.UpKey, l.Up) })
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    private static (string Layer, bool IsDown)? ParsePeft(string key)
    {
        foreach (var (suffix, isDown) in new[] { (".lora_A.weight", true), (".lora_B.weight", false) })
            if (key.EndsWith(suffix, StringComparison.Ordinal)) return (key[..^suffix.Length], isDown);
        return null;
    }

    /// <summary><c>[unet.]&lt;attention&gt;[.processor].to_q_lora.down.weight</c> → (<c>unet.&lt;attention&gt;.to_q</c>, down).</summary>
    private static (string Layer, bool IsDown)? ParseDiffusers(string key)
    {
        foreach (var (suffix, isDown) in new[] { ("_lora.down.weight", true), ("_lora.up.weight", false) })
        {
            if (!key.EndsWith(suffix, StringComparison.Ordinal)) continue;
            string stem = key[..^suffix.Length];
            int dot = stem.LastIndexOf('.');
            if (dot < 0) return null;
            string attention = stem[..dot], projection = stem[(dot + 1)..];
            int index = Array.IndexOf(UnetProjections, projection);
            if (index < 0) return null;
            bool text = attention.StartsWith(ConceptModel.TextEncoderComponent + ".", StringComparison.Ordinal);
            if (!text && !attention.StartsWith(ConceptModel.UnetComponent + ".", StringComparison.Ordinal)) attention = $"{ConceptModel.UnetComponent}.{attention}";
            if (attention.EndsWith(".processor", StringComparison.Ordinal)) attention = attention[..^".processor".Length];
            string layer = text ? TextProjections[index] : projection == "to_out" ? "to_out.0" : projection;
            return ($"{attention}.{layer}", isDown);
        }
        return null;
    }

    /// <summary>Pairs down/up tensors by layer (<c>component.path</c>), failing on keys that are neither or lack a partner.</summary>
    private static List<LoraLayer> Pair(IReadOnlyDictionary<string, Tensor> tensors, string source,
        Func<string, (string Layer, bool IsDown)?> parse, Func<string, long, double> alpha)
    {
        var downs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var ups = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var (key, tensor) in tensors)
        {
            if (parse(key) is not var (layer, isDown) || layer.IndexOf('.') <= 0) { unknown.Add(key); continue; }
            (isDown ? downs : ups)[layer] = tensor;
        }
        ThrowOnUnknown(unknown, tensors.Count, source);
        var unpaired = downs.Keys.Except(ups.Keys).Concat(ups.Keys.Except(downs.Keys)).ToList();
        if (unpaired.Count > 0)
            throw new ModelLoadException($"{source}: the LoRA layer '{unpaired[0]}' has only one of its down/up tensors: the file is incomplete");
        return [.. downs.Select(kv =>
        {
            int dot = kv.Key.IndexOf('.');
            return new LoraLayer(kv.Key[..dot], kv.Key[(dot + 1)..], kv.Value, ups[kv.Key], alpha(kv.Key, kv.Value.shape[0]));
        })];
    }

    private static List<LoraLayer> ReadKohya(IReadOnlyDictionary<string, Tensor> tensors, string source, KohyaNames names)
    {
        var groups = new Dictionary<string, Dictionary<string, Tensor>>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var (key, tensor) in tensors)
        {
            int dot = key.IndexOf('.');
            string suffix = dot < 0 ? "" : key[(dot + 1)..];
            if (suffix is not (Down or Up or AlphaSuffix) || names.Resolve(key[..dot]) is null) { unknown.Add(key); continue; }
            if (!groups.TryGetValue(key[..dot], out var group)) groups[key[..dot]] = group = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            group[suffix] = tensor;
        }
        ThrowOnUnknown(unknown, tensors.Count, source);
        var layers = new List<LoraLayer>();
        foreach (var (name, group) in groups)
        {
            if (!group.TryGetValue(Down, out var down) || !group.TryGetValue(Up, out var up))
                throw new ModelLoadException($"{source}: the kohya LoRA module '{name}' lacks its {(group.ContainsKey(Down) ? Up : Down)}: the file is incomplete");
            var (component, path) = names.Resolve(name)!.Value;
            double alpha = group.TryGetValue(AlphaSuffix, out var a) ? a.to_type(ScalarType.Float64).item<double>() : down.shape[0];
            layers.Add(new LoraLayer(component, path, down, up, alpha));
        }
        return layers;
    }

    /// <summary>One line with how many keys fit nothing and the first few: never a silent partial load.</summary>
    private static void ThrowOnUnknown(List<string> unknown, int total, string source)
    {
        if (unknown.Count == 0) return;
        string first = string.Join(", ", unknown.Order(StringComparer.Ordinal).Take(3));
        throw new ModelLoadException($"{source}: {unknown.Count} of {total} LoRA keys match no module of this model ({first}{(unknown.Count > 3 ? ", …" : "")}): use a LoRA made for this base model (SD-1/2 lora_unet_/lora_te_ names; LoHa, LoKr and SD-XL keys are not read)");
    }

    /// <summary>
    /// The tensors and metadata of <paramref name="layers"/> in <paramref name="layout"/>. <paramref name="info"/> is
    /// the concept's metadata (token, class, base model), carried over and shown in kohya's <c>ss_*</c> keys. New
    /// tensors (kohya alphas, diffusers' scaled ups) are the caller's to dispose, with the dictionary.
    /// </summary>
    /// <exception cref="InvalidInputException">The layout cannot hold a layer (diffusers' processors hold attention projections only).</exception>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Write(IReadOnlyList<LoraLayer> layers, LoraLayout layout, IReadOnlyDictionary<string, string> info)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in new[] { ConceptCheckpoint.TokenKey, ConceptCheckpoint.ClassKey, ConceptCheckpoint.BaseModelKey, ConceptCheckpoint.StepKey })
            if (info.TryGetValue(key, out var value)) metadata[key] = value;
        var shared = layers.Select(l => (l.Rank, l.Alpha)).Distinct().ToList();
        switch (layout)
        {
            case LoraLayout.Peft:
                metadata[ConceptCheckpoint.MethodKey] = "lora";
                if (shared is [var (rank, alpha)])
                {
                    metadata["lora_rank"] = rank.ToString(CultureInfo.InvariantCulture);
                    metadata[AlphaKey] = Format(alpha);
                }
                foreach (var layer in layers)
                {
                    tensors[layer.DownKey] = layer.Down;
                    tensors[layer.UpKey] = layer.Up;
                    if (shared.Count > 1) metadata[$"{AlphaPrefix}{layer.Component}.{layer.Path}"] = Format(layer.Alpha);
                }
                break;
            case LoraLayout.Kohya:
                foreach (var layer in layers)
                {
                    string name = KohyaNames.Name(layer.Component, layer.Path);
                    tensors[$"{name}.{Down}"] = layer.Down;
                    tensors[$"{name}.{Up}"] = layer.Up;
                    tensors[$"{name}.{AlphaSuffix}"] = torch.tensor((float)layer.Alpha);
                }
                AddKohyaMetadata(metadata, layers, shared);
                break;
            case LoraLayout.Diffusers:
                foreach (var layer in layers)
                {
                    string stem = DiffusersStem(layer);
                    tensors[$"{stem}.down.weight"] = layer.Down;
                    // The layout has no alpha: alpha/rank goes into up, so other tools see the same update.
                    tensors[$"{stem}.up.weight"] = layer.Alpha == layer.Rank ? layer.Up : layer.Up * (layer.Alpha / layer.Rank);
                }
                break;
        }
        return (tensors, metadata);
    }

    /// <summary><c>unet.&lt;attention&gt;.processor.to_q_lora</c> or <c>text_encoder.&lt;attention&gt;.to_q_lora</c>.</summary>
    private static string DiffusersStem(LoraLayer layer)
    {
        bool text = layer.Component == ConceptModel.TextEncoderComponent;
        string[] projections = text ? TextProjections : ["to_q", "to_k", "to_v", "to_out.0"];
        int dot = layer.Path.LastIndexOf('.');
        string projection = layer.Path.EndsWith(".to_out.0", StringComparison.Ordinal) ? "to_out.0" : layer.Path[(dot + 1)..];
        int index = Array.IndexOf(projections, projection);
        if (index < 0 || layer.Down.dim() != 2)
            throw new InvalidInputException($"the diffusers attention-processor layout holds attention projections only, not '{layer.Component}.{layer.Path}': export as kohya or peft");
        string attention = layer.Path[..^(projection.Length + 1)];
        return text ? $"{layer.Component}.{attention}.{UnetProjections[index]}_lora" : $"{layer.Component}.{attention}.processor.{UnetProjections[index]}_lora";
    }

    private static void AddKohyaMetadata(Dictionary<string, string> metadata, IReadOnlyList<LoraLayer> layers, List<(long Rank, double Alpha)> shared)
    {
        metadata["ss_network_module"] = "networks.lora";
        metadata["ss_network_dim"] = shared[0].Rank.ToString(CultureInfo.InvariantCulture);
        metadata["ss_network_alpha"] = Format(shared[0].Alpha);
        // The cross-attention width tells SD-1 (768) from SD-2 (1024), as A1111 sorts LoRAs by it.
        long? context = layers.FirstOrDefault(l => l.Component == ConceptModel.UnetComponent && l.Path.EndsWith("attn2.to_k", StringComparison.Ordinal))?.Down.shape[1];
        string? version = context switch { 768 => "sd_v1", 1024 => "sd_v2", _ => null };
        if (version is not null)
        {
            metadata["ss_base_model_version"] = version;
            metadata["ss_v2"] = version == "sd_v2" ? "True" : "False";
        }
        if (metadata.TryGetValue(ConceptCheckpoint.BaseModelKey, out var baseModel)) metadata["ss_sd_model_name"] = Path.GetFileName(baseModel.TrimEnd('/', '\\'));
        if (metadata.TryGetValue(ConceptCheckpoint.TokenKey, out var token))
        {
            metadata["modelspec.trigger_phrase"] = token;
            metadata["ss_tag_frequency"] = JsonSerializer.Serialize(new Dictionary<string, Dictionary<string, int>> { ["persongen"] = new() { [token] = 1 } });
        }
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
