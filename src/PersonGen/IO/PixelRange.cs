namespace PersonGen.IO;

/// <summary>The value range of image tensors: pixel value v ∈ {0..255} maps to v/255 or to 2·v/255 − 1.</summary>
public enum PixelRange
{
    /// <summary>[-1, 1], what the VAE expects and the denoising loop produces.</summary>
    MinusOneToOne,

    /// <summary>[0, 1], torchvision's <c>ToTensor</c> convention (CLIP and DINO preprocessing start here).</summary>
    ZeroToOne,
}
