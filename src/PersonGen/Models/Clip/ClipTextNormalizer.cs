using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace PersonGen.Models.Clip;

/// <summary>
/// The text cleaning of transformers' slow <c>CLIPTokenizer</c> with ftfy installed:
/// <c>whitespace_clean(ftfy.fix_text(text)).lower()</c>. The ftfy part covers HTML unescaping, terminal escapes,
/// Latin ligatures, full-width characters, curly quotes, line breaks, control characters and NFC; mojibake
/// repair (ftfy's <c>fix_encoding</c>) is not reproduced, and NFC is a no-op for non-ASCII text when the host
/// runs with invariant globalization (as PersonGen's builds do), so decomposed accents stay decomposed.
/// </summary>
internal static partial class ClipTextNormalizer
{
    public static string Clean(string text)
    {
        string fixedText = FixText(text);
        return PythonLower(CollapseWhitespace(fixedText));
    }

    /// <summary>The parts of ftfy 6 <c>fix_text</c> (default config) that matter for prompts, in ftfy's order.</summary>
    private static string FixText(string text)
    {
        // Lone surrogates cannot be UTF-8 encoded: replace them with U+FFFD as a lossy decoder would.
        text = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));
        // ftfy's unescape_html="auto" leaves text alone when it looks like real HTML (contains '<').
        if (!text.Contains('<')) text = WebUtility.HtmlDecode(text);
        text = TerminalEscape().Replace(text, "");
        var builder = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            switch (c)
            {
                case '\uFB00': builder.Append("ff"); break;
                case '\uFB01': builder.Append("fi"); break;
                case '\uFB02': builder.Append("fl"); break;
                case '\uFB03': builder.Append("ffi"); break;
                case '\uFB04': builder.Append("ffl"); break;
                case '\uFB05': builder.Append("ſt"); break;
                case '\uFB06': builder.Append("st"); break;
                case '\u0132': builder.Append("IJ"); break;
                case '\u0133': builder.Append("ij"); break;
                case '\u3000': builder.Append(' '); break;
                case >= '\uFF01' and <= '\uFF5E': builder.Append((char)(c - 0xFEE0)); break;
                case >= '\uFF5F' and <= '\uFFEF': builder.Append(HalfAndFullWidthForms.GetValueOrDefault(c, c)); break;
                case '\u02BC' or (>= '\u2018' and <= '\u201B'): builder.Append('\''); break;
                case >= '\u201C' and <= '\u201F': builder.Append('"'); break;
                case '\r' or '\u2028' or '\u2029' or '\u0085': builder.Append('\n'); break;
                default:
                    if (!IsRemovedControl(c)) builder.Append(c);
                    break;
            }
        }
        return builder.ToString().Normalize(NormalizationForm.FormC);
    }

    /// <summary>ftfy's width map (NFKC of U+FF5F–U+FFEF) for the forms prompts plausibly contain; half-width katakana pass through.</summary>
    private static readonly Dictionary<char, char> HalfAndFullWidthForms = new()
    {
        ['\uFF5F'] = '\u2985',
        ['\uFF60'] = '\u2986',
        ['\uFF61'] = '\u3002',
        ['\uFF62'] = '\u300C',
        ['\uFF63'] = '\u300D',
        ['\uFF64'] = '\u3001',
        ['\uFF65'] = '\u30FB',
        ['\uFFE0'] = '\u00A2',
        ['\uFFE1'] = '\u00A3',
        ['\uFFE2'] = '\u00AC',
        ['\uFFE3'] = '\u00AF',
        ['\uFFE4'] = '\u00A6',
        ['\uFFE5'] = '\u00A5',
        ['\uFFE6'] = '\u20A9',
        ['\uFFE8'] = '\u2502',
        ['\uFFE9'] = '\u2190',
        ['\uFFEA'] = '\u2191',
        ['\uFFEB'] = '\u2192',
        ['\uFFEC'] = '\u2193',
        ['\uFFED'] = '\u25A0',
        ['\uFFEE'] = '\u25CB',
    };

    /// <summary>Control characters ftfy's <c>remove_control_chars</c> drops (tab, newline, form feed and CR stay).</summary>
    private static bool IsRemovedControl(char c) =>
        c is (>= '\u0000' and <= '\u0008') or '\u000B' or (>= '\u000E' and <= '\u001F') or '\u007F'
            or (>= '\u206A' and <= '\u206F') or '\uFEFF' or (>= '\uFFF9' and <= '\uFFFC');

    /// <summary>Python's <c>str.isspace</c>, which also counts the separators U+001C–U+001F.</summary>
    public static bool IsPythonSpace(Rune r) => Rune.IsWhiteSpace(r) || r.Value is >= 0x1C and <= 0x1F;

    /// <summary><c>re.sub(r"\s+", " ", text).strip()</c>.</summary>
    private static string CollapseWhitespace(string text)
    {
        var builder = new StringBuilder(text.Length);
        bool pendingSpace = false;
        foreach (Rune r in text.EnumerateRunes())
        {
            if (IsPythonSpace(r))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }
            if (pendingSpace) builder.Append(' ');
            pendingSpace = false;
            builder.Append(r.ToString());
        }
        return builder.ToString();
    }

    /// <summary>Python's <c>str.lower</c>: simple case mapping plus its two context rules (İ and final sigma).</summary>
    private static string PythonLower(string text)
    {
        var runes = text.EnumerateRunes().ToArray();
        var builder = new StringBuilder(text.Length);
        for (int i = 0; i < runes.Length; i++)
        {
            Rune r = runes[i];
            if (r.Value == 0x130) builder.Append("i\u0307");
            else if (r.Value == 0x3A3 && i > 0 && Rune.IsLetter(runes[i - 1]) && (i + 1 == runes.Length || !Rune.IsLetter(runes[i + 1])))
                builder.Append('\u03C2');
            else builder.Append(Rune.ToLowerInvariant(r).ToString());
        }
        return builder.ToString();
    }

    [GeneratedRegex(@"\u001B\[((?:\d|;)*)([a-zA-Z])")]
    private static partial Regex TerminalEscape();

    /// <summary>
    /// The CLIP pre-tokenizer regex <c>&lt;|startoftext|&gt;|&lt;|endoftext|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>
    /// over Unicode scalar values (so letters outside the BMP count as letters, as in Python).
    /// </summary>
    public static List<string> SplitWords(string cleaned)
    {
        var words = new List<string>();
        int i = 0;
        while (i < cleaned.Length)
        {
            int length = MatchAt(cleaned, i);
            if (length == 0)
            {
                i += Rune.GetRuneAt(cleaned, i).Utf16SequenceLength;
                continue;
            }
            words.Add(cleaned.Substring(i, length));
            i += length;
        }
        return words;
    }

    private static readonly string[] Literals = ["<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    private static int MatchAt(string text, int start)
    {
        foreach (string literal in Literals)
        {
            if (text.AsSpan(start).StartsWith(literal, StringComparison.Ordinal)) return literal.Length;
        }
        Rune first = Rune.GetRuneAt(text, start);
        if (IsPythonSpace(first)) return 0;
        if (Rune.IsLetter(first)) return RunLength(text, start, Rune.IsLetter);
        if (IsNumber(first)) return first.Utf16SequenceLength;
        return RunLength(text, start, r => !IsPythonSpace(r) && !Rune.IsLetter(r) && !IsNumber(r));
    }

    private static bool IsNumber(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.DecimalDigitNumber
        or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;

    private static int RunLength(string text, int start, Func<Rune, bool> belongs)
    {
        int i = start;
        while (i < text.Length)
        {
            Rune r = Rune.GetRuneAt(text, i);
            if (!belongs(r)) break;
            i += r.Utf16SequenceLength;
        }
        return i - start;
    }
}
