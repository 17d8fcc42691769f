using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>
/// transformers' <c>CLIPTextModel</c>, the Stable Diffusion text encoder (state-dict keys <c>text_model.…</c>).
/// SD pipelines use <see cref="ClipTextOutput.LastHiddenState"/> (B, 77, D) as the UNet's encoder hidden states.
/// </summary>
public sealed class ClipTextModel : nn.Module<Tensor, ClipTextOutput>
{
    public ClipTextTransformer text_model;

    public ClipTextModel(ClipTextConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(ClipTextModel))
    {
        Config = config;
        text_model = new ClipTextTransformer(config, device, dtype);
        RegisterComponents();
    }

    public ClipTextConfig Config { get; }

    /// <summary>Checkpoint keys that old transformers versions stored and that are now derived, not loaded.</summary>
    internal static IReadOnlySet<string> IgnoredKeys { get; } = new HashSet<string> { "text_model.embeddings.position_ids" };

    /// <summary>Builds the model from <c>componentDir/config.json</c> and loads its safetensors weights strictly.</summary>
    /// <exception cref="ModelLoadException">Missing config or weights, or keys/shapes that differ (listed by name).</exception>
    public static ClipTextModel Load(string componentDir, ScalarType dtype, Device device)
    {
        return StateDictLoader.LoadNew(new ClipTextModel(ClipTextConfig.FromFolder(componentDir), device, dtype), componentDir, IgnoredKeys);
    }

    /// <summary>Encodes (B, L ≤ 77) int64 ids without attention mask, as the SD pipelines do.</summary>
    public override ClipTextOutput forward(Tensor inputIds) => forward(inputIds, null, 0, false);

    /// <summary>Encodes token ids.</summary>
    /// <param name="inputIds">(B, L ≤ max_position_embeddings) integer ids.</param>
    /// <param name="attentionMask">Optional (B, L), 1 = real token, 0 = padding; combined with the causal mask.</param>
    /// <param name="clipSkip">0: last layer. k &gt; 0: <c>hidden_states[−1−k]</c> through <c>final_layer_norm</c> becomes
    /// <see cref="ClipTextOutput.LastHiddenState"/> (diffusers' <c>clip_skip</c>); the pooled output stays the full model's.</param>
    /// <param name="outputHiddenStates">Also return every layer's hidden state.</param>
    /// <exception cref="InvalidInputException">Ids of the wrong rank or length, or clip skip out of range.</exception>
    public ClipTextOutput forward(Tensor inputIds, Tensor? attentionMask, int clipSkip = 0, bool outputHiddenStates = false) =>
        text_model.forward(inputIds, attentionMask, clipSkip, outputHiddenStates);
}
