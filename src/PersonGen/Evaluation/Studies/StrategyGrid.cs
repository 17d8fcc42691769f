using System.Globalization;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// Expands a strategy spec with hyperparameter grids into plain spec strings. Each value may be a number or word,
/// a range <c>a..b:step</c> (both ends included; step 1 if omitted), a list <c>a|b|c</c>, or arithmetic on other
/// parameters (<c>+ - * /</c>, parentheses), e.g. <c>mixed:ws=0..7:0.5,wc=7-ws</c> →
/// <c>mixed:wc=7,ws=0</c>, <c>mixed:wc=6.5,ws=0.5</c>, … Output parameters are sorted by name (ordinal), numbers
/// printed in invariant shortest form, duplicates dropped; the order follows the grid (first parameter slowest).
/// </summary>
public static class StrategyGrid
{
    /// <exception cref="InvalidInputException">The spec or one of its values cannot be expanded.</exception>
    public static IReadOnlyList<string> Expand(string spec)
    {
        spec = spec.Trim();
        int colon = spec.IndexOf(':');
        string name = colon < 0 ? spec : spec[..colon];
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
            throw new InvalidInputException($"strategy '{spec}' has no valid name: write it as name:key=value,… e.g. mixed:ws=0..7:0.5,wc=7-ws");
        if (colon < 0 || colon == spec.Length - 1) return [name];

        var raw = new List<(string Key, string Value)>();
        foreach (string part in spec[(colon + 1)..].Split(','))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0 || eq == part.Length - 1)
                throw new InvalidInputException($"strategy '{spec}': parameter '{part}' is not key=value");
            string key = part[..eq].Trim();
            if (raw.Any(r => r.Key == key)) throw new InvalidInputException($"strategy '{spec}': parameter '{key}' is given twice");
            raw.Add((key, part[(eq + 1)..].Trim()));
        }

        var names = raw.Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
        var axes = new List<(string Key, string[] Values)>();
        var derived = new List<(string Key, GridExpression Expression)>();
        foreach (var (key, value) in raw)
        {
            if (value.Contains("..")) axes.Add((key, Range(spec, key, value)));
            else if (value.Contains('|')) axes.Add((key, value.Split('|').Select(v => Literal(v.Trim())).ToArray()));
            else if (!TryNumber(value, out _) && GridExpression.TryParse(value, names, out GridExpression? expression))
                derived.Add((key, expression!));
            else axes.Add((key, [Literal(value)]));
        }

        var result = new List<string>();
        foreach (var assignment in Product(axes))
        {
            ResolveDerived(spec, assignment, derived);
            string text = name + ":" + string.Join(",", assignment.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
            if (!result.Contains(text)) result.Add(text);
        }
        return result;
    }

    private static void ResolveDerived(string spec, Dictionary<string, string> assignment, List<(string Key, GridExpression Expression)> derived)
    {
        var pending = derived.ToList();
        while (pending.Count > 0)
        {
            var ready = pending.FirstOrDefault(d => d.Expression.Variables.All(assignment.ContainsKey));
            if (ready.Expression is null)
                throw new InvalidInputException($"strategy '{spec}': parameters {string.Join(", ", pending.Select(p => p.Key))} depend on each other in a cycle");
            var values = new Dictionary<string, double>();
            foreach (string variable in ready.Expression.Variables)
            {
                if (!double.TryParse(assignment[variable], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                    throw new InvalidInputException($"strategy '{spec}': '{ready.Key}' uses '{variable}' = '{assignment[variable]}', which is not a number");
                values[variable] = v;
            }
            assignment[ready.Key] = Format(ready.Expression.Evaluate(values));
            pending.Remove(ready);
        }
    }

    private static IEnumerable<Dictionary<string, string>> Product(List<(string Key, string[] Values)> axes)
    {
        IEnumerable<Dictionary<string, string>> partial = [new Dictionary<string, string>(StringComparer.Ordinal)];
        foreach (var (key, values) in axes)
            partial = partial.SelectMany(p => values.Select(v => new Dictionary<string, string>(p, StringComparer.Ordinal) { [key] = v })).ToArray();
        return partial;
    }

    private static string[] Range(string spec, string key, string value)
    {
        string[] bounds = value.Split("..");
        string[] endAndStep = bounds.Length == 2 ? bounds[1].Split(':') : [];
        if (bounds.Length != 2 || endAndStep.Length > 2
            || !TryNumber(bounds[0], out double start) || !TryNumber(endAndStep[0], out double end))
            throw new InvalidInputException($"strategy '{spec}': range '{key}={value}' is not a..b or a..b:step");
        double step = 1;
        if (endAndStep.Length == 2 && !TryNumber(endAndStep[1], out step))
            throw new InvalidInputException($"strategy '{spec}': range '{key}={value}' has a step that is not a number");
        if (step <= 0) throw new InvalidInputException($"strategy '{spec}': range '{key}={value}' needs a positive step");
        if (end < start) throw new InvalidInputException($"strategy '{spec}': range '{key}={value}' ends before it starts: write low..high");
        long count = (long)Math.Floor((end - start) / step + 1e-9) + 1;
        if (count > 10_000) throw new InvalidInputException($"strategy '{spec}': range '{key}={value}' has {count} values: use a larger step");
        return Enumerable.Range(0, (int)count).Select(i => Format(start + i * step)).ToArray();
    }

    private static string Literal(string value) => TryNumber(value, out double number) ? Format(number) : value;

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>Invariant shortest form after rounding away binary noise: 7, 6.5, 0.1.</summary>
    internal static string Format(double value)
    {
        double rounded = Math.Round(value, 9);
        if (rounded == 0) rounded = 0;
        return rounded.ToString("R", CultureInfo.InvariantCulture);
    }
}
