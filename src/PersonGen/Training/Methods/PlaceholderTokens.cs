using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.Training.Methods;

/// <summary>Adds a placeholder token (and its embedding rows) to the tokenizer and the CLIP token embedding.</summary>
public static class PlaceholderTokens
{
    /// <summary>State-dict path of CLIP's token embedding (transformers names).</summary>
    public const string EmbeddingPath = "text_model.embeddings.token_embedding";

    /// <summary>The token strings for <paramref name="vectors"/> vectors: <c>tok</c>, <c>tok_1</c>, … (diffusers' convention).</summary>
    public static IReadOnlyList<string> TokenNames(string token, int vectors) =>
        Enumerable.Range(0, vectors).Select(i => i == 0 ? token : $"{token}_{i}").ToList();

    /// <summary>
    /// Ensures the tokens exist, new rows initialised from <paramref name="initializer"/>'s embedding, makes prompts
    /// spell <paramref name="token"/> as all of them, and returns their ids.
    /// </summary>
    /// <para>requireNew: Training: a token already in the vocabulary is an error (it would not be a new concept).</para>
    public static long[] Ensure(ConceptModel model, string token, int vectors, string? initializer, bool requireNew)
    {
        if (string.IsNullOrWhiteSpace(token)) throw new InvalidInputException("the placeholder token is empty: pass `token` sks (or <dog>)");
        var vocabulary = model.Vocabulary ?? throw new ModelLoadException($"adding the placeholder token '{token}' needs the tokenizer: load the base model with its tokenizer");
        var embedding = (Embedding)ModuleTree.Submodule(model.Component(ConceptModel.TextEncoderComponent), EmbeddingPath, ConceptModel.TextEncoderComponent);
        var names = TokenNames(token, vectors);
        var ids = new long[names.Count];
        var newRows = new List<int>();
        for (int i = 0; i < names.Count; i++)
        {
            if (vocabulary.TokenId(names[i]) is { } existing)
            {
                if (requireNew)
                    throw new InvalidInputException($"the placeholder token '{names[i]}' is already in the vocabulary: choose a new token such as '<{token.Trim('<', '>')}-concept>'");
                ids[i] = existing;
            }
            else
            {
                ids[i] = vocabulary.AddToken(names[i]);
                newRows.Add(i);
            }
        }
        if (names.Count > 1) vocabulary.ExpandToken(token, names);
        if (newRows.Count == 0) return ids;
        var weight = embedding.weight!;
        long rows = weight.shape[0];
        if (ids[newRows[0]] != rows)
            throw new ModelLoadException($"the tokenizer gave the new token '{names[newRows[0]]}' id {ids[newRows[0]]} but the text encoder has {rows} embedding rows: load the tokenizer that belongs to the text encoder");
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var source = initializer is null
            ? weight.mean([0], keepdim: true)
            : weight[InitializerId(vocabulary, initializer)].unsqueeze(0);
        var grown = torch.cat([weight, source.expand(newRows.Count, -1)], 0).contiguous();
        embedding.weight = new Parameter(grown.MoveToOuterDisposeScope(), requires_grad: weight.requires_grad);
        return ids;
    }

    private static long InitializerId(IConceptVocabulary vocabulary, string word) =>
        vocabulary.TokenId(word) ?? throw new InvalidInputException($"the initializer/class word '{word}' is not a single token of the vocabulary: pass a one-token word such as 'dog'");
}
