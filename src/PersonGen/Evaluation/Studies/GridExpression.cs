using System.Globalization;

namespace PersonGen.Evaluation.Studies;

/// <summary>Arithmetic on numbers and other grid parameters (<c>+ - * /</c>, unary minus, parentheses), e.g. <c>7-ws</c>.</summary>
internal sealed class GridExpression
{
    private readonly Func<IReadOnlyDictionary<string, double>, double> _evaluate;

    private GridExpression(Func<IReadOnlyDictionary<string, double>, double> evaluate, IReadOnlyList<string> variables)
    {
        _evaluate = evaluate;
        Variables = variables;
    }

    public IReadOnlyList<string> Variables { get; }

    public double Evaluate(IReadOnlyDictionary<string, double> values) => _evaluate(values);

    /// <summary>Parses <paramref name="text"/> when it is well-formed and every identifier is one of <paramref name="names"/>.</summary>
    public static bool TryParse(string text, IReadOnlySet<string> names, out GridExpression? expression)
    {
        var parser = new Parser(text, names);
        try
        {
            var evaluate = parser.ParseSum();
            parser.SkipSpaces();
            expression = parser.AtEnd ? new GridExpression(evaluate, parser.Variables.Distinct().ToArray()) : null;
        }
        catch (FormatException)
        {
            expression = null;
        }
        return expression is not null;
    }

    private sealed class Parser(string text, IReadOnlySet<string> names)
    {
        private int _at;

        public List<string> Variables { get; } = [];

        public bool AtEnd => _at == text.Length;

        public void SkipSpaces()
        {
            while (_at < text.Length && text[_at] == ' ') _at++;
        }

        public Func<IReadOnlyDictionary<string, double>, double> ParseSum()
        {
            var left = ParseProduct();
            while (Take('+') || Take('-'))
            {
                char op = text[_at - 1];
                var l = left;
                var right = ParseProduct();
                left = op == '+' ? v => l(v) + right(v) : v => l(v) - right(v);
            }
            return left;
        }

        private Func<IReadOnlyDictionary<string, double>, double> ParseProduct()
        {
            var left = ParseUnary();
            while (Take('*') || Take('/'))
            {
                char op = text[_at - 1];
                var l = left;
                var right = ParseUnary();
                left = op == '*' ? v => l(v) * right(v) : v => l(v) / right(v);
            }
            return left;
        }

        private Func<IReadOnlyDictionary<string, double>, double> ParseUnary()
        {
            if (Take('-'))
            {
                var inner = ParseUnary();
                return v => -inner(v);
            }
            if (Take('('))
            {
                var inner = ParseSum();
                if (!Take(')')) throw new FormatException();
                return inner;
            }
            SkipSpaces();
            int start = _at;
            if (_at < text.Length && (char.IsAsciiDigit(text[_at]) || text[_at] == '.'))
            {
                while (_at < text.Length && (char.IsAsciiDigit(text[_at]) || text[_at] == '.')) _at++;
                double number = double.Parse(text[start.._at], CultureInfo.InvariantCulture);
                return _ => number;
            }
            while (_at < text.Length && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] == '_')) _at++;
            string name = text[start.._at];
            if (name.Length == 0 || !names.Contains(name)) throw new FormatException();
            Variables.Add(name);
            return v => v[name];
        }

        private bool Take(char c)
        {
            SkipSpaces();
            if (_at < text.Length && text[_at] == c) { _at++; return true; }
            return false;
        }
    }
}
