using System.CommandLine;
using System.Text.Json;
using PersonGen.IO;
using static TorchSharp.torch;

namespace PersonGen.Cli.Commands;

/// <summary>
/// <c>persongen inspect PATH</c>: lists a checkpoint's tensors (name, dtype, shape) and metadata, or a model
/// folder's components. <c>--write-sample FILE</c> first writes a small safetensors checkpoint (and inspects it).
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
            if (Directory.Exists(target)) DescribeFolder(output, target);
            else DescribeCheckpoint(output, target);
            return CliApp.Success;
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

    private static void DescribeFolder(TextWriter output, string folder)
    {
        string index = Path.Combine(folder, "model_index.json");
        if (File.Exists(index))
        {
            output.WriteLine($"{folder}: model folder");
            foreach (var (name, kind) in ReadComponents(index))
            {
                if (kind is null) { output.WriteLine($"  {name}: (not used)"); continue; }
                output.WriteLine($"  {name}: {kind}");
                string componentFolder = Path.Combine(folder, name);
                if (!Directory.Exists(componentFolder)) { output.WriteLine("    (folder missing)"); continue; }
                foreach (string file in Directory.EnumerateFiles(componentFolder).Order(StringComparer.Ordinal))
                    output.WriteLine($"    {Path.GetFileName(file)}  {FormatBytes(new FileInfo(file).Length)}");
            }
            return;
        }
        output.WriteLine($"{folder}: folder without model_index.json; checkpoints found:");
        foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                     .Where(CheckpointFile.IsCheckpointPath).Order(StringComparer.Ordinal))
            output.WriteLine($"  {Path.GetRelativePath(folder, file)}  {FormatBytes(new FileInfo(file).Length)}");
    }

    /// <summary>Components of a diffusers <c>model_index.json</c>: entries whose value is [library, class].</summary>
    private static List<(string Name, string? Kind)> ReadComponents(string indexPath)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(indexPath));
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelLoadException($"{indexPath}: is not a JSON object");
            return document.RootElement.EnumerateObject()
                .Where(p => !p.Name.StartsWith('_') && p.Value.ValueKind == JsonValueKind.Array && p.Value.GetArrayLength() == 2)
                .Select(p => (p.Name, p.Value[0].ValueKind == JsonValueKind.String && p.Value[1].ValueKind == JsonValueKind.String
                    ? $"{p.Value[0].GetString()}.{p.Value[1].GetString()}" : (string?)null))
                .ToList();
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{indexPath}: is not valid JSON ({e.Message.ReplaceLineEndings(" ")}); re-save the model folder");
        }
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:F1} KiB",
        _ => $"{bytes} B",
    };
}
