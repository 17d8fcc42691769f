namespace PersonGen.Training;

/// <summary>The part of a tokenizer a concept needs: look a token up, add a new one (id = old vocabulary size).</summary>
public interface IConceptVocabulary
{
    /// <summary>The id of a single whole token (e.g. <c>dog</c>, <c>&lt;dog&gt;</c>), or null when the vocabulary lacks it.</summary>
    int? TokenId(string token);

    /// <summary>Adds <paramref name="token"/> as one new token and returns its id.</summary>
    int AddToken(string token);

    /// <summary>Makes prompts encode <paramref name="token"/> as all of <paramref name="tokens"/>; a vocabulary that never encodes prompts ignores it.</summary>
    void ExpandToken(string token, IReadOnlyList<string> tokens) { }
}
