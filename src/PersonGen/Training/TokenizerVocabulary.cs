using PersonGen.Models.Clip;

namespace PersonGen.Training;

/// <summary>The CLIP tokenizer seen as the vocabulary a concept's placeholder token is added to.</summary>
public sealed class TokenizerVocabulary(ClipTokenizer tokenizer) : IConceptVocabulary
{
    public int? TokenId(string token) => tokenizer.SingleTokenId(token);

    public int AddToken(string token) => tokenizer.AddToken(token);

    public void ExpandToken(string token, IReadOnlyList<string> tokens) => tokenizer.ExpandAddedToken(token, tokens);
}
