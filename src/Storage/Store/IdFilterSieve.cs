using LokiSharp.Storage.ContentIndex;

namespace LokiSharp.Storage.Store;

/// <summary>
/// The id filters of cached one-block chunk tails, transposed: one column per chunk, grouped by filter size, and per
/// filter bit a row telling which columns have it set. A search tests its few id grams against rows, a handful of
/// words for hundreds of chunks, instead of one filter per chunk, where each test waits on memory; then each chunk
/// looks up one bit. Not thread-safe: its owner (<see cref="ChunkTailTable"/>) calls it under its lock.
/// </summary>
internal sealed class IdFilterSieve
{
    private readonly Dictionary<int, Group> _groups = [];
    private readonly List<Group> _byIndex = [];
    private int _version;
    private SieveCandidates? _last;

    /// <summary>Adds a column for a chunk whose one block has <paramref name="idFilter"/>; returns its group and column.</summary>
    public (int Group, int Column) Add(ReadOnlySpan<byte> idFilter)
    {
        var bits = idFilter.Length * 8;
        if (!_groups.TryGetValue(bits, out var group))
        {
            group = new Group(bits, _byIndex.Count);
            _groups.Add(bits, group);
            _byIndex.Add(group);
        }

        var column = group.Columns;
        var word = column >> 6;
        if (word >= group.Rows[0].Length)
        {
            for (var p = 0; p < bits; p++)
            {
                Array.Resize(ref group.Rows[p], group.Rows[p].Length * 2);
            }
        }

        var bit = 1UL << (column & 63);
        for (var i = 0; i < idFilter.Length; i++)
        {
            var b = idFilter[i];
            while (b != 0)
            {
                var k = System.Numerics.BitOperations.TrailingZeroCount(b);
                group.Rows[(i * 8) + k][word] |= bit;
                b &= (byte)(b - 1);
            }
        }

        group.Columns++;
        _version++;
        return (group.Index, column);
    }

    /// <summary>The columns <paramref name="filter"/> may match, as of now; the last answer is reused while nothing is added.</summary>
    public SieveCandidates Candidates(LiteralPrefilter filter)
    {
        if (_last is { } last && ReferenceEquals(last.Filter, filter) && last.Version == _version)
        {
            return last;
        }

        var byGroup = new ulong[_byIndex.Count][];
        var columns = new int[_byIndex.Count];
        foreach (var group in _byIndex)
        {
            columns[group.Index] = group.Columns;
            byGroup[group.Index] = new ulong[(group.Columns + 63) >> 6];
            filter.MayMatchColumns(group.Rows, byGroup[group.Index]);
        }

        _last = new SieveCandidates(filter, _version, byGroup, columns);
        return _last;
    }

    private sealed class Group(int bits, int index)
    {
        public int Index { get; } = index;

        public int Columns { get; set; }

        public ulong[][] Rows { get; } = [.. Enumerable.Range(0, bits).Select(_ => new ulong[1])];
    }
}

/// <summary>Which sieve columns a search's filter may match; columns added after it was made count as may-match.</summary>
internal sealed class SieveCandidates(LiteralPrefilter filter, int version, ulong[][] byGroup, int[] columns)
{
    public LiteralPrefilter Filter { get; } = filter;

    public int Version { get; } = version;

    public bool MayMatch(int group, int column) =>
        group >= columns.Length || column >= columns[group] || (byGroup[group][column >> 6] & (1UL << (column & 63))) != 0;
}
