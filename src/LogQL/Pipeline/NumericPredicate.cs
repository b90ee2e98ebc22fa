using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Pipeline;

internal sealed class NumericPredicate(string name, ComparisonOp op, double reference) : LabelPredicate
{
    // Parsers hand out the same string for a repeated value (status codes), so earlier parses are usually reusable:
    // a few slots by the value's first and last characters keep alternating values apart.
    private const int Slots = 16;
    private readonly string?[] _texts = new string?[Slots];
    private readonly double[] _values = new double[Slots];

    public override bool Test(LineLabels labels)
    {
        var text = labels.Get(name);
        if (text is null)
        {
            return false;
        }

        var slot = text.Length == 0 ? 0 : ((text[0] * 7) + text[^1]) & (Slots - 1);
        double value;
        if (ReferenceEquals(text, _texts[slot]))
        {
            value = _values[slot];
        }
        else
        {
            if (!GoFloat.TryParse(text, out value, out var error))
            {
                SetFilterError(labels, error ?? "invalid syntax");
                return true;
            }

            _texts[slot] = text;
            _values[slot] = value;
        }

        // IEEE comparisons (NaN fails everything but !=), as Go compares floats.
        return op switch
        {
            ComparisonOp.Equal => value == reference,
            ComparisonOp.NotEqual => value != reference,
            ComparisonOp.GreaterThan => value > reference,
            ComparisonOp.GreaterThanOrEqual => value >= reference,
            ComparisonOp.LessThan => value < reference,
            ComparisonOp.LessThanOrEqual => value <= reference,
            _ => false,
        };
    }
}
