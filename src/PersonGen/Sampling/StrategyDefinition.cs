using System.Globalization;

namespace PersonGen.Sampling;

/// <summary>One parameter of a strategy spec: its key, meaning, default and allowed range or choices.</summary>
public sealed record StrategyParameter(string Name, string Description, string Default,
    double Min = double.NegativeInfinity, double Max = double.PositiveInfinity, bool Integer = false, string[]? Choices = null)
{
    /// <summary>The superclass-variant parameter every strategy with a superclass branch takes.</summary>
    public static StrategyParameter Super { get; } = new("super",
        "superclass branch: finetuned (default), noft (original TE and UNet), noft-te (original TE, as the reference), empty (template without the class word)",
        "finetuned", Choices: ["finetuned", "noft", "noft-te", "empty"]);

    public static StrategyParameter Scale(string name, string description, string defaultValue) =>
        new(name, description, defaultValue, Min: 0);

    public static StrategyParameter Step(string name, string description, string defaultValue) =>
        new(name, description, defaultValue, Min: 0, Integer: true);
}

/// <summary>A named strategy: its parameter schema and a factory from parsed arguments.</summary>
public sealed record StrategyDefinition(string Name, string Description, IReadOnlyList<StrategyParameter> Parameters,
    Func<StrategyArguments, ISamplingStrategy> Create);

/// <summary>Parsed, validated values of a spec's parameters, defaults filled in.</summary>
public sealed class StrategyArguments
{
    private readonly IReadOnlyDictionary<string, string> _values;

    internal StrategyArguments(IReadOnlyDictionary<string, string> values) => _values = values;

    public double Number(string name) => double.Parse(_values[name], CultureInfo.InvariantCulture);

    public int Integer(string name) => (int)Number(name);

    public string Choice(string name) => _values[name];

    public SuperclassVariant Super => Choice("super") switch
    {
        "noft" => SuperclassVariant.NoFT,
        "noft-te" => SuperclassVariant.NoFTTextEncoder,
        "empty" => SuperclassVariant.Empty,
        _ => SuperclassVariant.FineTuned,
    };
}

/// <summary>Builds canonical spec strings: <c>name:key=value,…</c> with invariant numbers; null values are left out.</summary>
public static class SpecFormat
{
    public static string Of(string name, params (string Key, object? Value)[] parameters)
    {
        var parts = parameters.Where(p => p.Value is not null).Select(p => $"{p.Key}={Value(p.Value!)}");
        return name + ":" + string.Join(",", parts);
    }

    /// <summary>The spec value of a superclass variant, or null for the default.</summary>
    public static string? Super(SuperclassVariant variant) => variant switch
    {
        SuperclassVariant.NoFT => "noft",
        SuperclassVariant.NoFTTextEncoder => "noft-te",
        SuperclassVariant.Empty => "empty",
        _ => null,
    };

    private static string Value(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString()!,
    };

    /// <summary>Throws when a step parameter lies beyond the run's step count.</summary>
    public static void CheckStep(string spec, string key, int value, int steps)
    {
        if (value > steps)
            throw new InvalidInputException($"strategy '{spec}': {key}={value} is beyond the {steps} sampling steps; use {key} <= {steps} or more `steps`");
    }
}
