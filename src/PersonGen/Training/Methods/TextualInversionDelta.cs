using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Training.Methods;

/// <summary>
/// Textual Inversion: only the placeholder token's embedding row(s) change; every other row is the original,
/// bitwise, at every step. Checkpoint: <c>learned_embeds.safetensors</c> layout, key = token, value [vectors, D].
/// </summary>
public sealed class TextualInversionDelta : ConceptDelta
{
    public const double DefaultLearningRate = 5e-3;

    /// <para>token: New placeholder (e.g. <c>&lt;dog&gt;</c>).</para>
    /// <para>initializer: A one-token word whose embedding starts the new row(s) (the class word).</para>
    /// <para>requireNewToken: Training: the token must be new. Loading: an existing one is reused.</para>
    public TextualInversionDelta(ConceptModel model, string token, string? initializer, int vectors = 1,
        double learningRate = DefaultLearningRate, bool requireNewToken = true) : base(model)
    {
        Token = token;
        TokenIds = PlaceholderTokens.Ensure(model, token, vectors, initializer, requireNewToken);
        AddTokenRows(TokenIds, token, learningRate);
    }

    public string Token { get; }
    public long[] TokenIds { get; }
    public override string Method => "textual-inversion";

    public override IReadOnlyDictionary<string, string> MethodMetadata =>
        new Dictionary<string, string> { ["vectors"] = TokenIds.Length.ToString(CultureInfo.InvariantCulture) };

}
