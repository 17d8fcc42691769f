namespace PersonGen.IO;

/// <summary>Paths of a CLIP BPE tokenizer's files in a model folder's <c>tokenizer/</c> component.</summary>
/// <param name="Vocab"><c>vocab.json</c> (token → id).</param>
/// <param name="Merges"><c>merges.txt</c> (BPE merge ranks).</param>
/// <param name="TokenizerConfig"><c>tokenizer_config.json</c>, or null when absent.</param>
/// <param name="SpecialTokensMap"><c>special_tokens_map.json</c>, or null when absent.</param>
public sealed record TokenizerFiles(string Vocab, string Merges, string? TokenizerConfig, string? SpecialTokensMap);
