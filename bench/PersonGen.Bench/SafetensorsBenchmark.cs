using System.Diagnostics;
using PersonGen.IO;
using static TorchSharp.torch;

namespace PersonGen.Bench;

/// <summary>
/// Writes a ~1 GB safetensors file (SD-like mix: one 512 MiB tensor read in chunks, many mid-size ones), then
/// compares reading it into tensors with a plain sequential read of the same bytes into one buffer: wall time
/// and peak RSS above the baseline, as ratios. Each read runs in a fresh child process, so peaks do not mix;
/// the file is read once beforehand so both see a warm page cache.
/// Args: [--size-mb N] [--path FILE] [--keep].
/// </summary>
public static class SafetensorsBenchmark
{
    public static int Run(string[] args)
    {
        if (args is ["--child", var mode, var childPath]) return Child(mode, childPath);
        long sizeMb = args.SkipWhile(a => a != "--size-mb").Skip(1).Select(long.Parse).FirstOrDefault(1024);
        string path = args.SkipWhile(a => a != "--path").Skip(1).FirstOrDefault()
            ?? Path.Combine(Path.GetTempPath(), "persongen-bench-1gb.safetensors");
        WriteFile(path, sizeMb << 20);
        long fileBytes = new FileInfo(path).Length;
        Console.WriteLine($"file: {path}, {fileBytes / (double)(1 << 20):F0} MiB");
        Measure("plain", path); // warm the page cache
        var plain = Enumerable.Range(0, 3).Select(_ => Measure("plain", path)).ToList();
        var tensors = Enumerable.Range(0, 3).Select(_ => Measure("tensors", path)).ToList();
        double plainTime = plain.Min(r => r.Seconds), tensorTime = tensors.Min(r => r.Seconds);
        long plainPeak = plain.Max(r => r.PeakExtraBytes), tensorPeak = tensors.Max(r => r.PeakExtraBytes);
        Console.WriteLine($"plain sequential read: {plainTime:F3} s (best of 3), peak extra RSS {plainPeak / (double)fileBytes:F3}x file size");
        Console.WriteLine($"safetensors -> tensors: {tensorTime:F3} s (best of 3), peak extra RSS {tensorPeak / (double)fileBytes:F3}x file size");
        Console.WriteLine($"time ratio tensors/plain: {tensorTime / plainTime:F2} (goal <= 1.2)");
        Console.WriteLine($"peak extra memory tensors/file size: {tensorPeak / (double)fileBytes:F3} (goal <= 1.1)");
        if (!args.Contains("--keep")) File.Delete(path);
        return 0;
    }

    private static void WriteFile(string path, long bytes)
    {
        using var scope = NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        long big = bytes / 2;
        tensors.Add(new("big.weight", ones([big / 4], ScalarType.Float32)));
        long rest = bytes - big;
        long each = 4L << 20;
        for (int i = 0; rest > 0; i++, rest -= each)
            tensors.Add(new($"layers.{i}.weight", full([Math.Min(each, rest) / 2], i % 7, ScalarType.Float16)));
        SafetensorsFile.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    private sealed record Result(double Seconds, long PeakExtraBytes);

    private static Result Measure(string mode, string path)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") start.ArgumentList.Add(typeof(SafetensorsBenchmark).Assembly.Location);
        start.ArgumentList.Add("safetensors");
        start.ArgumentList.Add("--child");
        start.ArgumentList.Add(mode);
        start.ArgumentList.Add(path);
        using var child = Process.Start(start)!;
        string line = child.StandardOutput.ReadToEnd().Trim().Split('\n').Last();
        child.WaitForExit();
        if (child.ExitCode != 0) throw new InvalidOperationException($"child {mode} failed: {line}");
        var parts = line.Split(' ');
        return new Result(double.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(parts[1]));
    }

    /// <summary>Child: one read, then prints "seconds peakExtraBytes" (VmHWM above the RSS before reading).</summary>
    private static int Child(string mode, string path)
    {
        using (var warm = SafetensorsFile.Open(path)) { } // load TorchSharp's native library before the baseline
        using (empty(1)) { }
        GC.Collect();
        ResetPeak();
        long baseline = ReadStatus("VmRSS:");
        var clock = Stopwatch.StartNew();
        if (mode == "plain")
        {
            var buffer = GC.AllocateUninitializedArray<byte>(checked((int)Math.Min(new FileInfo(path).Length, Array.MaxLength)));
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            int offset = 0, read;
            while (offset < buffer.Length && (read = stream.Read(buffer, offset, Math.Min(1 << 24, buffer.Length - offset))) > 0) offset += read;
            GC.KeepAlive(buffer);
        }
        else
        {
            var tensors = SafetensorsFile.Load(path);
            if (tensors["big.weight"][^1].item<float>() != 1f) throw new InvalidOperationException("read back wrong data");
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
        double seconds = clock.Elapsed.TotalSeconds;
        long peak = ReadStatus("VmHWM:");
        Console.WriteLine(FormattableString.Invariant($"{seconds} {peak - baseline}"));
        return 0;
    }

    /// <summary>Writing 5 to /proc/self/clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0).</summary>
    private static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    private static long ReadStatus(string field) =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
}
