namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// <c>|&gt; "pattern"</c>: literals found left to right, each <c>&lt;_&gt;</c> covering at least one byte, the end
/// anchored; an empty pattern matches only empty lines.
/// </summary>
internal sealed class PatternMatcher : LineMatcher
{
    private readonly byte[]?[] _nodes;

    public PatternMatcher(byte[]?[] nodes) => _nodes = nodes;

    /// <summary>The literals of the pattern, in order.</summary>
    public IEnumerable<byte[]> Literals => _nodes.OfType<byte[]>();

    public override bool Matches(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty || _nodes.Length == 0)
        {
            return line.IsEmpty && _nodes.Length == 0;
        }

        var offset = 0;
        for (var i = 0; i < _nodes.Length; i++)
        {
            if (_nodes[i] is not { } literal)
            {
                continue;
            }

            var j = line[offset..].IndexOf(literal);
            if (j < 0 || (i != 0 && j == 0))
            {
                return false;
            }

            offset += j + literal.Length;
        }

        var endsOnCapture = _nodes[^1] is null;
        return endsOnCapture == (offset != line.Length);
    }
}
