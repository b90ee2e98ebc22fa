using System.Text;

namespace LokiSharp.Storage.ContentIndex;

/// <summary>
/// Literal substrings every returned line must contain (a chain of <c>|= "literal"</c> filters). Readers use
/// it to skip blocks through their content filters and to drop non-matching lines before handing them out.
/// </summary>
public sealed class LineFilter
{
    private readonly byte[][] _literals;

    /// <summary>Creates a filter requiring every literal (compared as UTF-8 bytes, case-sensitive).</summary>
    public LineFilter(params IEnumerable<string> literals)
    {
        var list = new List<byte[]>();
        foreach (var literal in literals)
        {
            if (literal.Length > 0)
            {
                list.Add(Encoding.UTF8.GetBytes(literal));
            }
        }

        _literals = [.. list];
    }

    /// <summary>The literals as UTF-8.</summary>
    public IReadOnlyList<byte[]> Literals => _literals;

    /// <summary>Whether a block with this content filter may hold a matching line.</summary>
    public bool MayMatchBlock(ReadOnlySpan<byte> blockFilter) => NGramFilter.MayContainAll(blockFilter, _literals);

    /// <summary>Whether <paramref name="line"/> contains every literal.</summary>
    public bool Matches(ReadOnlySpan<byte> line)
    {
        foreach (var literal in _literals)
        {
            if (line.IndexOf(literal) < 0)
            {
                return false;
            }
        }

        return true;
    }
}
