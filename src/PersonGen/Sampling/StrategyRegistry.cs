using System.Globalization;
using PersonGen.Sampling.Strategies;

namespace PersonGen.Sampling;

/// <summary>All sampling strategies by name, and the parser of spec strings such as <c>mixed:wc=3.5,ws=3.5</c>.</summary>
public static class StrategyRegistry
{
    public static IReadOnlyList<StrategyDefinition> All { get; } =
    [
        BaseStrategy.Definition,
        SuperclassStrategy.Definition,
        MixedStrategy.Definition,
        SwitchingStrategy.Definition,
        MultiStageStrategy.Definition,
        MaskedStrategy.Definition,
        ProFusionStrategy.Definition,
        PhotoswapStrategy.Definition,
    ];

    /// <summary>Parses a spec string; throws <see cref="InvalidInputException"/> naming the problem and the allowed values.</summary>
    public static ISamplingStrategy Parse(string spec)
    {
        string trimmed = spec.Trim();
        int colon = trimmed.IndexOf(':');
        string name = (colon < 0 ? trimmed : trimmed[..colon]).Trim().ToLowerInvariant();
        var definition = All.FirstOrDefault(d => d.Name == name)
            ?? throw new InvalidInputException($"unknown strategy '{name}' in '{spec}'; known: {string.Join(", ", All.Select(d => d.Name))}");
        var values = definition.Parameters.ToDictionary(p => p.Name, p => p.Default, StringComparer.Ordinal);
        string body = colon < 0 ? "" : trimmed[(colon + 1)..];
        var given = new HashSet<string>(StringComparer.Ordinal);
        foreach (string pair in body.Trim().Length == 0 ? [] : body.Split(',', StringSplitOptions.TrimEntries))
        {
            if (pair.Length == 0)
                throw new InvalidInputException($"strategy '{spec}': an empty item between commas; write key=value items separated by single commas");
            int equals = pair.IndexOf('=');
            if (equals <= 0)
                throw new InvalidInputException($"strategy '{spec}': '{pair}' is not key=value");
            string key = pair[..equals].Trim().ToLowerInvariant();
            string value = pair[(equals + 1)..].Trim();
            var parameter = definition.Parameters.FirstOrDefault(p => p.Name == key)
                ?? throw new InvalidInputException($"strategy '{spec}': unknown parameter '{key}' for {name}; allowed: {string.Join(", ", definition.Parameters.Select(p => p.Name))}");
            if (!given.Add(key))
                throw new InvalidInputException($"strategy '{spec}': '{key}' is given twice; give each parameter once");
            values[key] = Validate(spec, parameter, value);
        }
        return definition.Create(new StrategyArguments(values));
    }

    private static string Validate(string spec, StrategyParameter parameter, string value)
    {
        if (parameter.Choices is { } choices)
        {
            string lowered = value.ToLowerInvariant();
            return choices.Contains(lowered) ? lowered
                : throw new InvalidInputException($"strategy '{spec}': {parameter.Name}={value} is not one of {string.Join("|", choices)}");
        }
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) || !double.IsFinite(number))
            throw new InvalidInputException($"strategy '{spec}': {parameter.Name}={value} is not a number");
        if (parameter.Integer && number != Math.Floor(number))
            throw new InvalidInputException($"strategy '{spec}': {parameter.Name}={value} must be a whole number of steps");
        if (number < parameter.Min || number > parameter.Max)
            throw new InvalidInputException($"strategy '{spec}': {parameter.Name}={value} is outside [{Bound(parameter.Min)}, {Bound(parameter.Max)}]");
        return value;
    }

    private static string Bound(double bound) =>
        double.IsInfinity(bound) ? (bound > 0 ? "∞" : "-∞") : bound.ToString(CultureInfo.InvariantCulture);
}
