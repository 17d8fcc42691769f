using PersonGen.IO;
using PersonGen.Tests.Support;
using static TorchSharp.torch;

namespace PersonGen.Tests.Diffusion;

public class TextToImageGoldenTests
{
    [Fact]
    public void Generate_on_tiny_sd2_reproduces_the_diffusers_run_from_the_prompt_string()
    {
        string golden = TestPaths.Golden();
        string output = TestPaths.NewTempDirectory();
        CliRunner.RunOk("generate", "--model", Path.Combine(golden, "tiny_sd2"), "--prompt", "a sks dog in the snow",
            "--negative-prompt", "", "--steps", "5", "--guidance", "7.5", "--scheduler", "ddim", "--seed", "1234", "-n", "2",
            "--height", "128", "--width", "128", "--init-latents", Path.Combine(golden, "tiny_sd2_run", "init_latents.safetensors"),
            "--latents-out", Path.Combine(output, "latents.safetensors"), "--out", output);

        using var scope = NewDisposeScope();
        var expected = SafetensorsFile.Load(Path.Combine(golden, "tiny_sd2_run", "io.safetensors"));
        var actual = SafetensorsFile.Load(Path.Combine(output, "latents.safetensors"));
        TensorAssert.CloseRelativeToMax(expected["final_latents"], actual["latents"], 1e-4, "final latents");

        // The PNGs hold round(image·255) of the reference's clamp(decoded/2 + 0.5, 0, 1): allow one level for float noise.
        var pixels = ImageIO.LoadTensor([Path.Combine(output, "0.png"), Path.Combine(output, "1.png")], 128, 128, PixelRange.ZeroToOne);
        TensorAssert.Close(expected["image"], pixels, 1.0 / 255 + 1e-6, "images");
        Assert.Contains("a sks dog in the snow", ImageIO.ReadParameters(Path.Combine(output, "0.png")));
    }
}
