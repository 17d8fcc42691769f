using PersonGen.Diffusion.Schedulers;

namespace PersonGen.TestSupport;

/// <summary>Sizes of a random tiny Stable Diffusion model written by <see cref="TinyModelFolder.Create"/>.</summary>
public sealed record TinyModelOptions
{
    /// <summary>Latent side length (the UNet's <c>sample_size</c>); images are 8× larger with the default VAE.</summary>
    public int SampleSize { get; init; } = 16;

    /// <summary>UNet <c>block_out_channels</c>: cross-attention blocks, the last one plain. Multiples of <see cref="NormGroups"/> and of 8.</summary>
    public IReadOnlyList<int> UnetChannels { get; init; } = [8, 16, 16];

    /// <summary>VAE <c>block_out_channels</c>; 4 blocks give SD's spatial factor of 8.</summary>
    public IReadOnlyList<int> VaeChannels { get; init; } = [8, 8, 16, 16];

    /// <summary>GroupNorm groups of the UNet and the VAE.</summary>
    public int NormGroups { get; init; } = 4;

    /// <summary>Text encoder width, also the UNet's <c>cross_attention_dim</c>.</summary>
    public int TextHiddenSize { get; init; } = 32;

    /// <summary>Scheduler <c>prediction_type</c>: epsilon (SD 2 base) or v_prediction (SD 2 at 768).</summary>
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;

    /// <summary>
    /// OpenAI CLIP's <c>bpe_simple_vocab_16e6.txt.gz</c> to derive the tokenizer from (real CLIP ids), or null for a
    /// small built-in vocabulary (bytes plus merges for a few common prompt words).
    /// </summary>
    public string? BpeFile { get; init; }

    /// <summary>With <see cref="BpeFile"/>: vocabulary size, 514 … 49408 (the first merges are kept, BOS and EOS are last).</summary>
    public int VocabSize { get; init; } = 49408;
}
