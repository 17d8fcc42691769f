using System.Text.Json;
using PersonGen.IO;
using PersonGen.Tests.Support;
using static TorchSharp.torch;

namespace PersonGen.Tests.Sampling;

/// <summary>Each case of golden/strategies/cases.json, run through its own `persongen sample` command line.</summary>
public class StrategyGoldenTests
{
    private static JsonElement Cases
    {
        get
        {
            using var document = JsonDocument.Parse(File.ReadAllText(TestPaths.Golden("strategies", "cases.json")));
            return document.RootElement.GetProperty("cases").Clone();
        }
    }

    public static TheoryData<string> CaseNames() => new(Cases.EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void The_cli_reproduces_the_reference_final_latents(string name)
    {
        var testCase = Cases.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        var argvElement = testCase.GetProperty("cli_argv");
        var argv = (argvElement.ValueKind == JsonValueKind.String
                ? JsonSerializer.Deserialize<string[]>(argvElement.GetString()!)!
                : argvElement.EnumerateArray().Select(a => a.GetString()!).ToArray())
            .Skip(1) // "persongen"
            .ToArray();
        string output = TestPaths.NewTempDirectory();
        string root = TestPaths.Golden();
        var args = argv.Select(a => a.Replace("{root}", root).Replace("OUT/", output + "/")).ToArray();
        CliRunner.RunOk([.. args, "--no-decode"]);

        using var scope = NewDisposeScope();
        var expected = SafetensorsFile.Load(TestPaths.Golden("strategies", testCase.GetProperty("file").GetString()!));
        var actual = SafetensorsFile.Load(Path.Combine(output, name + ".safetensors"));
        TensorAssert.CloseRelativeToMax(expected["final_latents"], actual["latents"], 1e-4, $"{name} final latents");
    }
}
