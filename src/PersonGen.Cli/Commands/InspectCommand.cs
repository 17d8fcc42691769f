using System.CommandLine;
using System.Text.Json;
using PersonGen.IO;
using static TorchSharp.torch;

namespace PersonGen.Cli.Commands;

/// <summary>
/// <c>persongen inspect PATH</c>: lists a checkpoint's tensors (name, dtype, shape) and metadata, or a model
/// folder's components (class, config, weight files with parameter counts from their headers, scheduler type). <c>--write-sample FILE</c> first writes a small safetensors checkpoint (and inspects it).
/// </summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var path = new Argument<string?>("path")
        {
            Description = "A checkpoint (.safetensors, .bin, .pt, .pth, .ckpt) or a model folder.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var writeSample = new Option<string?>("--write-sample")
        {
            Description = "Write a small sample safetensors checkpoint to FILE, then inspect it.",
            HelpName = "FILE",
        };
        var command = new Command("inspect", "Show the tensors and metadata of a checkpoint, or the components of a model folder.")
        {
            path,
            writeSample,
        };
        command.Validators.Add(result =>
        {
            bool hasPath = result.GetValue(path) is not null;
            bool hasSample = result.GetValue(writeSample) is not null;
            if (hasPath == hasSample) result.AddError("give either PATH or --write-sample FILE (exactly one)");
        });
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            string target = parseResult.GetValue(path) ?? parseResult.GetValue(writeSample)!;
            if (parseResult.GetValue(writeSample) is { } sample)
            {
                WriteSample(sample);
                output.WriteLine($"wrote {sample}");
            }
            if (!Directory.Exists(target))
            {
                DescribeCheckpoint(output, target);
                return CliApp.Success;
            }
            int problems = DescribeFolder(output, target);
            if (problems == 0) return CliApp.Success;
            parseResult.InvocationConfiguration.Error.WriteLine(
                $"error: {target}: {problems} component(s) cannot be loaded (see 'problem:' above): replace or repair their files");
            return CliApp.Failure;
        });
        return command;
    }

    /// <summary>Writes the sample checkpoint: one tensor of each common dtype, deterministic values, format metadata.</summary>
    public static void WriteSample(string path)
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["conv.weight"] = linspace(-1, 1, 4 * 3 * 3 * 3).reshape(4, 3, 3, 3),
            ["conv.bias"] = zeros(4, ScalarType.Float16),
            ["embedding.weight"] = arange(16, dtype: ScalarType.BFloat16).reshape(4, 4),
            ["input_ids"] = arange(77, dtype: ScalarType.Int64).unsqueeze(0),
            ["mask"] = arange(16).remainder(2).eq(0).reshape(4, 4),
        };
        SafetensorsFile.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["written_by"] = "persongen inspect --write-sample" });
    }

    /// <summary>Pickle extensions go to the pickle reader; anything else is read as safetensors (which validates it).</summary>
    private static void DescribeCheckpoint(TextWriter output, string path)
    {
        if (!CheckpointFile.IsPickle(path))
        {
            using var file = SafetensorsFile.Open(path);
            var entries = file.Entries.Select(e => (e.Name, e.DType, e.Shape, e.ByteLength)).ToList();
            WriteTensorTable(output, path, "safetensors", entries, file.Metadata);
            return;
        }
        var tensors = PickleCheckpoint.Load(path);
        try
        {
            var rows = tensors.Select(kv => (kv.Key, SafetensorsDTypes.FromScalarType(kv.Value.dtype), kv.Value.shape,
                kv.Value.NumberOfElements * kv.Value.ElementSize)).ToList();
            WriteTensorTable(output, path, "pytorch pickle", rows, new Dictionary<string, string>());
        }
        finally
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
    }

    private static void WriteTensorTable(TextWriter output, string path, string format,
        List<(string Name, string DType, long[] Shape, long Bytes)> rows, IReadOnlyDictionary<string, string> metadata)
    {
        long parameters = rows.Sum(r => r.Shape.Aggregate(1L, (a, b) => a * b));
        output.WriteLine($"{path}: {format}, {rows.Count} tensors, {parameters:N0} elements, {FormatBytes(rows.Sum(r => r.Bytes))}");
        foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            output.WriteLine($"  metadata {key} = {value}");
        int nameWidth = rows.Count == 0 ? 0 : rows.Max(r => r.Name.Length);
        foreach (var row in rows)
            output.WriteLine($"  {row.Name.PadRight(nameWidth)}  {row.DType,-4}  [{string.Join(", ", row.Shape)}]");
    }

    /// <summary>Describes a model folder or lists the checkpoints of any folder; returns the number of components with a problem.</summary>
    private static int DescribeFolder(TextWriter output, string folder)
    {
        if (File.Exists(Path.Combine(folder, ModelFolder.IndexFileName))) return DescribeModel(output, ModelFolder.Open(folder));
        output.WriteLine($"{folder}: folder without {ModelFolder.IndexFileName}; checkpoints found:");
        foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                     .Where(CheckpointFile.IsCheckpointPath).Order(StringComparer.Ordinal))
            output.WriteLine($"  {Path.GetRelativePath(folder, file)}  {FormatBytes(new FileInfo(file).Length)}");
        return 0;
    }

    /// <summary>Each component's class, config, weight files with their parameter counts, and the scheduler type.</summary>
    private static int DescribeModel(TextWriter output, ModelFolder model)
    {
        int problems = 0;
        string version = model.DiffusersVersion is { } v ? $", diffusers {v}" : "";
        output.WriteLine($"{model.Root}: model folder, {model.ClassName}{version}");
        foreach (var component in model.Components.Values)
        {
            output.WriteLine($"  {component.Name}: {component.Library}.{component.ClassName}");
            try
            {
                DescribeComponent(output, model, component);
            }
            catch (PersonGenException e)
            {
                output.WriteLine($"    problem: {e.Message}");
                problems++;
            }
        }
        foreach (string absent in model.AbsentComponents) output.WriteLine($"  {absent}: (not used)");
        return problems;
    }

    private static void DescribeComponent(TextWriter output, ModelFolder model, ComponentInfo component)
    {
        string directory = model.ComponentDirectory(component.Name);
        if (component.Name == "tokenizer" || component.ClassName.Contains("Tokenizer", StringComparison.Ordinal))
        {
            var files = model.TokenizerFiles(component.Name);
            var present = new[] { files.Vocab, files.Merges, files.TokenizerConfig, files.SpecialTokensMap }.OfType<string>();
            output.WriteLine($"    files: {string.Join(", ", present.Select(Path.GetFileName))}");
            return;
        }
        var config = model.ReadConfigJson(component.Name);
        string configName = Path.GetFileName(model.ConfigPath(component.Name));
        if (configName == "scheduler_config.json")
        {
            string Field(string name) => config.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
                ? value.ToString() : "(default)";
            output.WriteLine($"    {configName}: {Field("_class_name")}, beta_schedule {Field("beta_schedule")}, " +
                $"prediction_type {Field("prediction_type")}, timestep_spacing {Field("timestep_spacing")}");
            return;
        }
        output.WriteLine($"    {configName}");
        long total = 0;
        var weightFiles = model.WeightFiles(component.Name);
        foreach (string file in weightFiles)
        {
            string count = "";
            if (CheckpointFile.IsSafetensors(file))
            {
                using var weights = SafetensorsFile.Open(file);
                long parameters = weights.Entries.Sum(e => e.Shape.Aggregate(1L, (a, b) => a * b));
                total += parameters;
                count = $", {parameters:N0} parameters";
            }
            output.WriteLine($"    {Path.GetFileName(file)}  {FormatBytes(new FileInfo(file).Length)}{count}");
        }
        if (weightFiles.Count > 1 && total > 0) output.WriteLine($"    total {total:N0} parameters");
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:F1} KiB",
        _ => $"{bytes} B",
    };
}
