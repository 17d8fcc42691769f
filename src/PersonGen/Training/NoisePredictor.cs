using static TorchSharp.torch;

namespace PersonGen.Training;

/// <summary>
/// The UNet call the diffusion loss needs: noisy latents [B,C,H,W], timesteps [B] (int64) and text embeddings
/// [B,77,D] → prediction [B,C,H,W].
/// </summary>
public delegate Tensor NoisePredictor(Tensor noisy, Tensor timesteps, Tensor textEmbeddings);
