using PersonGen.Models.Attention;
using static TorchSharp.torch;

namespace PersonGen.Diffusion;

/// <summary>The noise-prediction network as the loop sees it (a UNet with its fine-tuning switch).</summary>
public interface IDenoiser
{
    /// <summary>Predicts the model output (ε, v or x₀ as configured) for (B, C, H, W) latents at one (possibly fractional) timestep.</summary>
    Tensor Predict(Tensor sample, double timestep, Tensor encoderHiddenStates, IAttentionHook? hook);

    /// <summary>Switches between fine-tuned and original weights (no-op for a model without a concept).</summary>
    void UseWeights(ModelWeights weights);
}

/// <summary>Turns a prompt into the text encoder's hidden states, (1, L, D).</summary>
public interface ITextConditioner
{
    Tensor Encode(string prompt, ModelWeights weights);
}
