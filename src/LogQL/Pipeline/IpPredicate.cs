using System.Text;

namespace LokiSharp.LogQL.Pipeline;

internal sealed class IpPredicate(string name, bool notEqual, IpPattern pattern) : LabelPredicate
{
    private byte[] _scratch = new byte[64];

    public override bool Test(LineLabels labels)
    {
        // Only string matchers may drop lines that carry an error.
        if (labels.HasError)
        {
            return true;
        }

        var value = labels.Get(name);
        if (value is null)
        {
            return false;
        }

        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_scratch.Length < max)
        {
            _scratch = new byte[max];
        }

        var n = Encoding.UTF8.GetBytes(value, _scratch);
        return pattern.MatchesAnyIn(_scratch.AsSpan(0, n)) != notEqual;
    }
}
