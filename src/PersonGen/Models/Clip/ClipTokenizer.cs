using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace PersonGen.Models.Clip;

/// <summary>
/// The CLIP byte-level BPE tokenizer as transformers' slow <c>CLIPTokenizer</c> runs it in the Stable Diffusion
/// pipelines: added and special tokens are split off first (so SD 2's pad token <c>!</c> always becomes id 0),
/// every other span is cleaned (ftfy subset, whitespace collapse, lower case), split by the CLIP regex and
/// BPE-encoded. <see cref="Encode"/> gives BOS + at most <see cref="MaxLength"/> − 2 tokens + EOS, padded
/// with <see cref="PadId"/> to <see cref="MaxLength"/>. Not thread-safe while <see cref="AddToken"/> runs.
/// </summary>
public sealed class ClipTokenizer
{
    private const string StartOfText = "<|startoftext|>";
    private const string EndOfText = "<|endoftext|>";
    private const int DefaultMaxLength = 77;

    private readonly Dictionary<string, int> _vocab;
    private readonly ClipBytePairEncoder _bpe;
    private readonly Dictionary<string, int> _addedTokens = new(StringComparer.Ordinal);
    private List<string> _addedByLength = [];
    private readonly Dictionary<string, IReadOnlyList<string>> _expansions = new(StringComparer.Ordinal);

    private ClipTokenizer(Dictionary<string, int> vocab, IReadOnlyList<(string, string)> merges, string bos, string eos,
        string unk, string pad, int maxLength, IEnumerable<KeyValuePair<string, int>> addedTokens)
    {
        _vocab = vocab;
        _bpe = new ClipBytePairEncoder(merges);
        MaxLength = maxLength;
        foreach (var (token, id) in addedTokens) RegisterAdded(token, id);
        BosId = AddToken(bos);
        EosId = AddToken(eos);
        UnkId = AddToken(unk);
        PadId = AddToken(pad);
    }

    /// <summary>Sequence length of <see cref="Encode"/> (77 for every Stable Diffusion text encoder).</summary>
    public int MaxLength { get; }

    public int BosId { get; }
    public int EosId { get; }
    public int PadId { get; }
    public int UnkId { get; }

    /// <summary>Number of ids, added tokens included (transformers' <c>len(tokenizer)</c>).</summary>
    public int VocabSize => Math.Max(_vocab.Count == 0 ? 0 : _vocab.Values.Max() + 1,
        _addedTokens.Count == 0 ? 0 : _addedTokens.Values.Max() + 1);

    /// <summary>
    /// Reads a model folder's <c>tokenizer/</c>: <c>vocab.json</c>, <c>merges.txt</c>, and the special tokens of
    /// <c>tokenizer_config.json</c> / <c>special_tokens_map.json</c> (plus <c>added_tokens.json</c> if present).
    /// </summary>
    /// <exception cref="ModelLoadException">A required file is missing or malformed.</exception>
    public static ClipTokenizer FromFolder(string tokenizerDir)
    {
        if (!Directory.Exists(tokenizerDir))
            throw new ModelLoadException($"{tokenizerDir}: tokenizer folder not found; give the model folder's tokenizer/ directory");
        string vocabPath = RequireFile(tokenizerDir, "vocab.json");
        string mergesPath = RequireFile(tokenizerDir, "merges.txt");
        Dictionary<string, int> vocab;
        try
        {
            vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))
                ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{vocabPath}: not a JSON object of token → id ({e.Message}); restore the tokenizer's vocab.json", e);
        }
        var merges = ParseMerges(File.ReadAllLines(mergesPath), mergesPath, skipFirstLine: true);

        JsonObject config = ReadJsonObject(Path.Combine(tokenizerDir, "tokenizer_config.json"));
        JsonObject specialMap = ReadJsonObject(Path.Combine(tokenizerDir, "special_tokens_map.json"));
        string Special(string key, string fallback) =>
            TokenContent(config[key]) ?? TokenContent(specialMap[key]) ?? fallback;

        var added = new List<KeyValuePair<string, int>>();
        if (config["added_tokens_decoder"] is JsonObject decoder)
        {
            foreach (var (id, token) in decoder)
            {
                if (int.TryParse(id, out int value) && TokenContent(token) is { } content) added.Add(new(content, value));
            }
        }
        JsonObject addedFile = ReadJsonObject(Path.Combine(tokenizerDir, "added_tokens.json"));
        foreach (var (token, id) in addedFile)
        {
            if (id is JsonValue v && v.TryGetValue(out int value)) added.Add(new(token, value));
        }

        int maxLength = config["model_max_length"] is JsonValue m && m.TryGetValue(out double configured)
            && configured is >= 2 and <= DefaultMaxLength ? (int)configured : DefaultMaxLength;
        return new ClipTokenizer(vocab, merges, Special("bos_token", StartOfText), Special("eos_token", EndOfText),
            Special("unk_token", EndOfText), Special("pad_token", EndOfText), maxLength, added);
    }

    /// <summary>
    /// Builds the tokenizer from OpenAI CLIP's <c>bpe_simple_vocab_16e6.txt.gz</c>, with the vocabulary order of
    /// OpenAI's SimpleTokenizer (256 bytes, 256 bytes + <c>&lt;/w&gt;</c>, the merges, then BOS 49406 and EOS 49407).
    /// </summary>
    /// <param name="path">The gzip-compressed merges file.</param>
    /// <param name="padToken">SD 2: <c>"!"</c> (id 0, also split off wherever it occurs); SD 1.x: <c>"&lt;|endoftext|&gt;"</c>.</param>
    /// <exception cref="ModelLoadException">The file is missing or not a gzip merges list.</exception>
    public static ClipTokenizer FromBpeFile(string path, string padToken)
    {
        if (!File.Exists(path))
            throw new ModelLoadException($"{path}: CLIP merges file not found; give the path of bpe_simple_vocab_16e6.txt.gz");
        string[] lines;
        try
        {
            using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var reader = new StreamReader(gzip);
            lines = reader.ReadToEnd().Split('\n');
        }
        catch (InvalidDataException e)
        {
            throw new ModelLoadException($"{path}: not a gzip file ({e.Message}); give the original bpe_simple_vocab_16e6.txt.gz", e);
        }
        var merges = ParseMerges(lines, path, skipFirstLine: true);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (_, c) in ClipBytePairEncoder.ByteAlphabet) vocab.TryAdd(c.ToString(), vocab.Count);
        foreach (var (_, c) in ClipBytePairEncoder.ByteAlphabet) vocab.TryAdd(c + ClipBytePairEncoder.EndOfWord, vocab.Count);
        foreach (var (left, right) in merges) vocab.TryAdd(left + right, vocab.Count);
        vocab.TryAdd(StartOfText, vocab.Count);
        vocab.TryAdd(EndOfText, vocab.Count);
        return new ClipTokenizer(vocab, merges, StartOfText, EndOfText, EndOfText, padToken, DefaultMaxLength, []);
    }

    /// <summary>
    /// Registers <paramref name="token"/> as an added token that is never split (a placeholder such as
    /// <c>&lt;V*&gt;</c> or <c>sks</c>) and returns its id: the existing id when the vocabulary already has it
    /// (as transformers' <c>add_tokens</c> does), otherwise the next free id.
    /// </summary>
    /// <exception cref="InvalidInputException">The token is empty.</exception>
    public int AddToken(string token)
    {
        if (string.IsNullOrEmpty(token)) throw new InvalidInputException("added token is empty; give a non-empty placeholder such as <V*>");
        if (_addedTokens.TryGetValue(token, out int existing)) return existing;
        int id = _vocab.TryGetValue(token, out int inVocab) ? inVocab : VocabSize;
        RegisterAdded(token, id);
        return id;
    }

    private void RegisterAdded(string token, int id)
    {
        _addedTokens[token] = id;
        _addedByLength = [.. _addedTokens.Keys.OrderByDescending(t => t.Length)];
    }

    /// <summary>
    /// Makes every occurrence of the added token <paramref name="token"/> encode as the added tokens
    /// <paramref name="tokens"/> (a multi-vector embedding: <c>tok</c> → <c>tok tok_1 tok_2</c>, as A1111 and diffusers do).
    /// </summary>
    /// <exception cref="InvalidInputException">A token is not an added token.</exception>
    public void ExpandAddedToken(string token, IReadOnlyList<string> tokens)
    {
        var missing = tokens.Prepend(token).FirstOrDefault(t => !_addedTokens.ContainsKey(t));
        if (missing is not null) throw new InvalidInputException($"'{missing}' is not an added token: add it before expanding '{token}'");
        _expansions[token] = [.. tokens];
    }

    /// <summary>The id of one token string (a vocabulary piece such as <c>dog&lt;/w&gt;</c> or an added token), or null.</summary>
    public int? TokenId(string token) =>
        _addedTokens.TryGetValue(token, out int added) ? added : _vocab.TryGetValue(token, out int id) ? id : null;

    /// <summary>
    /// The id of <paramref name="word"/> when it encodes to exactly one token (<c>dog</c> → <c>dog&lt;/w&gt;</c>, an added
    /// token as itself), or null: the lookup of a word as the pipelines will encode it.
    /// </summary>
    public int? SingleTokenId(string word)
    {
        var tokens = Tokenize(word);
        return tokens.Count == 1 ? TokenId(tokens[0]) : null;
    }

    /// <summary>The token strings of <paramref name="text"/>, without BOS/EOS, truncation or padding.</summary>
    public IReadOnlyList<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        foreach (var (span, isAdded) in SplitOnAddedTokens(text))
        {
            if (isAdded)
            {
                tokens.Add(span);
                continue;
            }
            foreach (string word in ClipTextNormalizer.SplitWords(ClipTextNormalizer.Clean(span)))
                tokens.AddRange(_bpe.Encode(word));
        }
        return tokens;
    }

    /// <summary>BOS + all token ids of <paramref name="text"/> + EOS, without truncation or padding.</summary>
    public IReadOnlyList<int> EncodeUnpadded(string text)
    {
        var ids = new List<int> { BosId };
        foreach (string token in Tokenize(text))
        {
            if (_expansions.TryGetValue(token, out var expansion)) ids.AddRange(expansion.Select(t => _addedTokens[t]));
            else ids.Add(TokenId(token) ?? UnkId);
        }
        ids.Add(EosId);
        return ids;
    }

    /// <summary>
    /// The ids the SD pipelines feed the text encoder: BOS + the first <see cref="MaxLength"/> − 2 tokens + EOS,
    /// padded with <see cref="PadId"/> to <see cref="MaxLength"/> (length 77).
    /// </summary>
    public int[] Encode(string text) => EncodeWithAttentionMask(text).Ids;

    /// <summary><see cref="Encode"/> plus the attention mask (1 on BOS, tokens and EOS; 0 on padding), both of length <see cref="MaxLength"/>.</summary>
    public (int[] Ids, int[] AttentionMask) EncodeWithAttentionMask(string text)
    {
        var full = EncodeUnpadded(text);
        int content = Math.Min(full.Count - 2, MaxLength - 2);
        var ids = new int[MaxLength];
        var mask = new int[MaxLength];
        Array.Fill(ids, PadId);
        ids[0] = BosId;
        for (int i = 0; i < content; i++) ids[i + 1] = full[i + 1];
        ids[content + 1] = EosId;
        Array.Fill(mask, 1, 0, content + 2);
        return (ids, mask);
    }

    /// <summary>Encodes a batch of prompts into an int64 tensor of shape [B, <see cref="MaxLength"/>] on the CPU.</summary>
    public Tensor EncodeBatch(IReadOnlyList<string> texts)
    {
        var ids = new long[texts.Count * MaxLength];
        for (int b = 0; b < texts.Count; b++)
        {
            int[] row = Encode(texts[b]);
            for (int i = 0; i < MaxLength; i++) ids[b * MaxLength + i] = row[i];
        }
        return tensor(ids, [texts.Count, MaxLength], ScalarType.Int64);
    }

    /// <summary>Splits text at added tokens (leftmost, longest match first), as transformers' added-token trie does.</summary>
    private List<(string Span, bool IsAdded)> SplitOnAddedTokens(string text)
    {
        var parts = new List<(string, bool)>();
        int start = 0, i = 0;
        while (i < text.Length)
        {
            string? match = null;
            foreach (string token in _addedByLength)
            {
                if (text.AsSpan(i).StartsWith(token, StringComparison.Ordinal)) { match = token; break; }
            }
            if (match is null) { i++; continue; }
            if (i > start) parts.Add((text[start..i], false));
            parts.Add((match, true));
            i += match.Length;
            start = i;
        }
        if (start < text.Length) parts.Add((text[start..], false));
        return parts;
    }

    private static string RequireFile(string dir, string name)
    {
        string path = Path.Combine(dir, name);
        if (!File.Exists(path))
            throw new ModelLoadException($"{path}: missing; a CLIP tokenizer folder needs vocab.json and merges.txt");
        return path;
    }

    private static List<(string, string)> ParseMerges(IEnumerable<string> lines, string path, bool skipFirstLine)
    {
        var merges = new List<(string, string)>();
        foreach (string raw in lines.Skip(skipFirstLine ? 1 : 0))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length == 0) continue;
            if (merges.Count == ClipBytePairEncoder.MaxMerges) break;
            string[] pair = line.Split(' ');
            if (pair.Length != 2)
                throw new ModelLoadException($"{path}: merge line {merges.Count + 2} is not two space-separated symbols; restore the merges file");
            merges.Add((pair[0], pair[1]));
        }
        if (merges.Count == 0) throw new ModelLoadException($"{path}: holds no merges; restore the merges file");
        return merges;
    }

    private static JsonObject ReadJsonObject(string path)
    {
        if (!File.Exists(path)) return [];
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? [];
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{path}: invalid JSON ({e.Message}); fix or delete the file", e);
        }
    }

    /// <summary>A special token given as a plain string or as an AddedToken object with <c>content</c>.</summary>
    private static string? TokenContent(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonObject o when o["content"] is JsonValue c && c.TryGetValue(out string? s) => s,
        _ => null,
    };
}
