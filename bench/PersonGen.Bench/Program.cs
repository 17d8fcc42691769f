using PersonGen.Bench;

// Benchmarks by name: `dotnet run -c Release --project bench/PersonGen.Bench -- NAME [args]`. Add yours to the table.
var benchmarks = new Dictionary<string, (string Description, Func<string[], int> Run)>(StringComparer.OrdinalIgnoreCase)
{
    ["safetensors"] = ("read a 1 GB safetensors file into tensors vs a plain sequential read (time and memory ratios)", SafetensorsBenchmark.Run),
    ["loop"] = ("denoising loop: run time over the sum of UNet forwards; RSS after step 5 vs the last [steps]", SamplingBenchmark.RunLoop),
    ["strategies"] = ("rows/image, time and peak memory per strategy relative to Base [steps] [--sd2] [--only NAME]", SamplingBenchmark.RunStrategies),
    ["training"] = ("concept fine-tuning: steps/s and peak memory per method vs DreamBooth-qkv, SVDiff's trainable values [steps]", TrainingBenchmark.Run),
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var benchmark))
{
    Console.Error.WriteLine(args.Length == 0 ? "usage: PersonGen.Bench NAME [args]" : $"unknown benchmark '{args[0]}'");
    foreach (var (name, (description, _)) in benchmarks) Console.Error.WriteLine($"  {name,-12} {description}");
    return 2;
}
return benchmark.Run(args[1..]);
