using PersonGen.IO;
using PersonGen.Tests.Support;
using static TorchSharp.torch;

namespace PersonGen.Tests.Training.Formats;

/// <summary>Final latents of <c>persongen sample</c> (Base, 2 steps, tiny_sd2) with a concept file applied.</summary>
public static class ConceptSampling
{
    public static Tensor Latents(string concept, string placeholder)
    {
        string latents = Path.Combine(TestPaths.NewTempDirectory(), "latents.safetensors");
        CliRunner.RunOk("sample", "--model", TestPaths.Golden("tiny_sd2"), "--concept", concept, "--prompt", "a {} on the beach", "--placeholder", placeholder,
            "--class", "dog", "--strategy", "base", "--steps", "2", "--no-decode", "--latents-out", latents, "--out", TestPaths.NewTempDirectory());
        return SafetensorsFile.Load(latents)["latents"];
    }
}
