using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Pipeline;

internal sealed class BytesPredicate(string name, ComparisonOp op, ulong reference) : LabelPredicate
{
    public override bool Test(LineLabels labels)
    {
        var text = labels.Get(name);
        if (text is null)
        {
            return false;
        }

        if (!HumanBytes.TryParse(text, out var value, out var error))
        {
            SetFilterError(labels, error ?? "invalid size");
            return true;
        }

        return Compare(op, value, reference);
    }
}
