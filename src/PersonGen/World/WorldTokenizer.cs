using System.Text.Json;
using PersonGen.Models.Clip;

namespace PersonGen.World;

/// <summary>
/// The built-in world's small CLIP tokenizer: the 512 byte-level base tokens (with and without <c>&lt;/w&gt;</c>),
/// just the merges that make every world word one token, then BOS and EOS (EOS doubles as pad and unk, as in
/// SD 1.x). Any text still tokenizes; world words cost one id each, so the embedding table stays small.
/// </summary>
public static class WorldTokenizer
{
    private const string StartOfText = "<|startoftext|>";
    private const string EndOfText = "<|endoftext|>";

    /// <summary>
    /// Every word of the world's captions and concepts: caption glue, shapes, colours (concept-only ones too),
    /// patterns, backgrounds, the identifier tokens and every concept token.
    /// </summary>
    public static IReadOnlyList<string> Words { get; } =
        new[] { "a", "photo", "of", "on" }
            .Concat(Enum.GetValues<ShapeKind>().Select(ShapesPalette.Word))
            .Concat(Enum.GetValues<ShapeColor>().Select(ShapesPalette.Word))
            .Concat(Enum.GetValues<PatternKind>().Select(ShapesPalette.Word).Where(w => w.Length > 0))
            .Concat(Enum.GetValues<BackgroundKind>().Select(ShapesPalette.Word))
            .Concat(ShapesWorld.Identifiers.Select(i => i.Token))
            .Concat(ShapesWorld.Concepts.Select(c => c.Token))
            .Distinct(StringComparer.Ordinal)
            .ToArray();

    /// <summary>The merges (in rank order) under which each of <see cref="Words"/> encodes to a single token.</summary>
    public static IReadOnlyList<(string Left, string Right)> Merges { get; } = BuildMerges();

    /// <summary>
    /// Writes <c>vocab.json</c>, <c>merges.txt</c>, <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c>
    /// into <paramref name="directory"/> (created if needed), readable by <see cref="ClipTokenizer.FromFolder"/>.
    /// </summary>
    public static void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (_, c) in ClipBytePairEncoder.ByteAlphabet) vocab.TryAdd(c.ToString(), vocab.Count);
        foreach (var (_, c) in ClipBytePairEncoder.ByteAlphabet) vocab.TryAdd(c + ClipBytePairEncoder.EndOfWord, vocab.Count);
        foreach (var (left, right) in Merges) vocab.TryAdd(left + right, vocab.Count);
        vocab.TryAdd(StartOfText, vocab.Count);
        vocab.TryAdd(EndOfText, vocab.Count);
        var indented = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(directory, "vocab.json"), JsonSerializer.Serialize(vocab, indented));
        File.WriteAllLines(Path.Combine(directory, "merges.txt"),
            new[] { "#version: 0.2 (PersonGen built-in world)" }.Concat(Merges.Select(m => $"{m.Left} {m.Right}")));
        var special = new Dictionary<string, string>
        {
            ["bos_token"] = StartOfText,
            ["eos_token"] = EndOfText,
            ["unk_token"] = EndOfText,
            ["pad_token"] = EndOfText,
        };
        File.WriteAllText(Path.Combine(directory, "special_tokens_map.json"), JsonSerializer.Serialize(special, indented));
        var config = new Dictionary<string, object>(special.Select(kv => new KeyValuePair<string, object>(kv.Key, kv.Value)))
        {
            ["model_max_length"] = 77,
            ["tokenizer_class"] = "CLIPTokenizer",
            ["do_lower_case"] = true,
        };
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), JsonSerializer.Serialize(config, indented));
    }

    // Adds a merge of a word's first two pieces until it is one token. A merge appended last never changes a word
    // that already encodes to one token (each of its steps had a lower-ranked pair), so words stay settled.
    private static List<(string, string)> BuildMerges()
    {
        var merges = new List<(string, string)>();
        foreach (string word in Words)
        {
            while (true)
            {
                string[] pieces = new ClipBytePairEncoder(merges).Encode(word);
                if (pieces.Length == 1) break;
                merges.Add((pieces[0], pieces[1]));
            }
        }
        return merges;
    }
}
