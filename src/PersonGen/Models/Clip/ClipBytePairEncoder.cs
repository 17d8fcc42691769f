using System.Collections.Concurrent;
using System.Text;

namespace PersonGen.Models.Clip;

/// <summary>
/// CLIP's byte-level BPE: a word's UTF-8 bytes become printable stand-in characters (GPT-2's
/// <c>bytes_to_unicode</c>), the last one carries the end-of-word marker <c>&lt;/w&gt;</c>, and the
/// lowest-ranked adjacent pair is merged until no ranked pair is left.
/// </summary>
internal sealed class ClipBytePairEncoder
{
    public const string EndOfWord = "</w>";

    /// <summary>The slow CLIPTokenizer reads at most this many merges (49152 − 256 − 2).</summary>
    public const int MaxMerges = 49152 - 256 - 2;

    private readonly Dictionary<(string, string), int> _ranks;
    private readonly ConcurrentDictionary<string, string[]> _cache = new(StringComparer.Ordinal);

    public ClipBytePairEncoder(IReadOnlyList<(string Left, string Right)> merges)
    {
        _ranks = new Dictionary<(string, string), int>(merges.Count);
        for (int i = 0; i < merges.Count; i++) _ranks.TryAdd(merges[i], i);
        // The reference pre-seeds its cache so literal special tokens are never split.
        _cache["<|startoftext|>"] = ["<|startoftext|>"];
        _cache["<|endoftext|>"] = ["<|endoftext|>"];
    }

    /// <summary>Byte → stand-in character, in GPT-2's order: printable Latin-1 bytes map to themselves, the rest to U+0100 onwards.</summary>
    public static IReadOnlyList<(byte Byte, char Char)> ByteAlphabet { get; } = BuildByteAlphabet();

    private static readonly char[] ByteToChar = BuildByteToChar();

    private static List<(byte, char)> BuildByteAlphabet()
    {
        static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        var alphabet = new List<(byte, char)>(256);
        for (int b = 0; b < 256; b++) if (Printable(b)) alphabet.Add(((byte)b, (char)b));
        int next = 256;
        for (int b = 0; b < 256; b++) if (!Printable(b)) alphabet.Add(((byte)b, (char)next++));
        return alphabet;
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        foreach (var (b, c) in BuildByteAlphabet()) map[b] = c;
        return map;
    }

    /// <summary>The BPE pieces (vocabulary strings) of one pre-tokenized word.</summary>
    public string[] Encode(string word)
    {
        if (_cache.TryGetValue(word, out var cached)) return cached;
        byte[] utf8 = Encoding.UTF8.GetBytes(word);
        var symbols = new List<string>(utf8.Length);
        foreach (byte b in utf8) symbols.Add(ByteToChar[b].ToString());
        symbols[^1] += EndOfWord;
        MergeAll(symbols);
        string[] pieces = [.. symbols];
        _cache[word] = pieces;
        return pieces;
    }

    private void MergeAll(List<string> symbols)
    {
        while (symbols.Count > 1)
        {
            int bestRank = int.MaxValue;
            (string, string) best = default;
            for (int i = 0; i < symbols.Count - 1; i++)
            {
                if (_ranks.TryGetValue((symbols[i], symbols[i + 1]), out int rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = (symbols[i], symbols[i + 1]);
                }
            }
            if (bestRank == int.MaxValue) return;
            // Merge every occurrence of the pair, scanning left to right without overlaps.
            var merged = new List<string>(symbols.Count);
            for (int i = 0; i < symbols.Count; i++)
            {
                if (i < symbols.Count - 1 && symbols[i] == best.Item1 && symbols[i + 1] == best.Item2)
                {
                    merged.Add(best.Item1 + best.Item2);
                    i++;
                }
                else merged.Add(symbols[i]);
            }
            symbols.Clear();
            symbols.AddRange(merged);
        }
    }
}
