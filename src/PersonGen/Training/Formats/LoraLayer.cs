using static TorchSharp.torch;

namespace PersonGen.Training.Formats;

/// <summary>
/// One layer's LoRA pair, whatever file layout it came from: W' = W + multiplier·(Alpha/Rank)·Up·Down with
/// Down [rank, in] (conv: [rank, in, kh, kw]) and Up [out, rank] (conv: [out, rank, 1, 1]). The tensors belong to
/// the file they were read from.
/// </summary>
public sealed record LoraLayer(string Component, string Path, Tensor Down, Tensor Up, double Alpha)
{
    public long Rank => Down.shape[0];

    /// <summary>The diffusers/PEFT key of Down (<c>unet.&lt;path&gt;.lora_A.weight</c>), our canonical name.</summary>
    public string DownKey => $"{Component}.{Path}.lora_A.weight";

    /// <summary>The diffusers/PEFT key of Up (<c>unet.&lt;path&gt;.lora_B.weight</c>).</summary>
    public string UpKey => $"{Component}.{Path}.lora_B.weight";
}

/// <summary>The LoRA file layouts read and written: ours and diffusers/PEFT's, kohya's (A1111, ComfyUI), diffusers' attention processors.</summary>
public enum LoraLayout
{
    Peft,
    Kohya,
    Diffusers,
}
