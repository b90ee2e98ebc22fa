using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Pipeline;

internal sealed class DurationPredicate(string name, ComparisonOp op, long referenceNs) : LabelPredicate
{
    public override bool Test(LineLabels labels)
    {
        var text = labels.Get(name);
        if (text is null)
        {
            return false;
        }

        if (GoDuration.TryParseGo(text, out var error) is not { } value)
        {
            SetFilterError(labels, error ?? "time: invalid duration");
            return true;
        }

        return Compare(op, value.Nanoseconds, referenceNs);
    }
}
