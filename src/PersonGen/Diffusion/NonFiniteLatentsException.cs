namespace PersonGen.Diffusion;

/// <summary>Denoising produced NaN or infinite latents; the message names the step, the rule and the likely cause.</summary>
public sealed class NonFiniteLatentsException : PersonGenException
{
    public NonFiniteLatentsException(string message) : base(message) { }
}
