using System.Runtime.InteropServices;

namespace LokiSharp.Storage.Index;

/// <summary>
/// The values one label takes in a <see cref="LabelIndex"/>, each with its postings (series ids in
/// ascending order). Values are also kept in one contiguous character buffer, so scans over hundreds of
/// thousands of values (regex and substring matchers) read memory sequentially instead of chasing a pointer
/// per value, and in ordinal order, so literal-prefix regexes only visit a range. Not thread-safe; the
/// owning index serialises writers against readers.
/// </summary>
internal sealed class LabelValueSet
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _values = [];
    private readonly List<List<int>> _postings = [];
    private readonly List<int> _starts = [];

    // Lengths next to starts: reading a string's Length would touch the string object, a cache miss per value.
    private readonly List<int> _lengths = [];
    private readonly List<int> _sorted = [];
    private char[] _chars = new char[1024];
    private int _charCount;

    public int Count => _values.Count;

    public List<string> Values => _values;

    public string ValueAt(int id) => _values[id];

    public ReadOnlySpan<char> SpanAt(int id) => _chars.AsSpan(_starts[id], _lengths[id]);

    public ReadOnlySpan<int> PostingsAt(int id) => CollectionsMarshal.AsSpan(_postings[id]);

    /// <summary>Series ids holding <paramref name="value"/>, empty when none.</summary>
    public ReadOnlySpan<int> Postings(string value) =>
        _ids.TryGetValue(value, out var id) ? CollectionsMarshal.AsSpan(_postings[id]) : default;

    /// <summary>Records that series <paramref name="seriesId"/> (larger than any before) has the value.</summary>
    public void Add(string value, int seriesId)
    {
        if (_ids.TryGetValue(value, out var id))
        {
            _postings[id].Add(seriesId);
            return;
        }

        id = _values.Count;
        _ids.Add(value, id);
        _values.Add(value);
        _postings.Add([seriesId]);
        if (_charCount + value.Length > _chars.Length)
        {
            Array.Resize(ref _chars, Math.Max(_chars.Length * 2, _charCount + value.Length));
        }

        value.CopyTo(_chars.AsSpan(_charCount));
        _starts.Add(_charCount);
        _lengths.Add(value.Length);
        _charCount += value.Length;
        _sorted.Insert(LowerBound(value), id);
    }

    /// <summary>Rank (position in ordinal order) of the first value not less than <paramref name="text"/>.</summary>
    public int LowerBound(string text)
    {
        int lo = 0, hi = _sorted.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (string.CompareOrdinal(_values[_sorted[mid]], text) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>
    /// Calls <paramref name="onMatch"/> with the id of every value containing <paramref name="needle"/> (non-empty),
    /// in id order. One vectorised scan over the contiguous buffer instead of a search per value; a hit spanning
    /// two values is no hit.
    /// </summary>
    public void ForEachContaining<TState>(ReadOnlySpan<char> needle, TState state, Action<TState, int> onMatch)
    {
        var chars = _chars.AsSpan(0, _charCount);
        var starts = CollectionsMarshal.AsSpan(_starts);
        var lengths = CollectionsMarshal.AsSpan(_lengths);
        var pos = 0;
        while (pos < chars.Length)
        {
            var k = chars[pos..].IndexOf(needle);
            if (k < 0)
            {
                return;
            }

            var at = pos + k;
            var id = starts.BinarySearch(at);
            if (id < 0)
            {
                id = ~id - 1;
            }

            // Only the empty value can share its start with the next value; step past it.
            while (id + 1 < starts.Length && starts[id + 1] <= at)
            {
                id++;
            }

            var end = starts[id] + lengths[id];
            if (at + needle.Length <= end)
            {
                onMatch(state, id);
                pos = end;
            }
            else
            {
                pos = at + 1;
            }
        }
    }

    /// <summary>The id of the value at <paramref name="rank"/> in ordinal order.</summary>
    public int IdAtRank(int rank) => _sorted[rank];
}
