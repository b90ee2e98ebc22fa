using LokiSharp.Storage.ContentIndex;

namespace LokiSharp.Storage.Store;

/// <summary>
/// The id filters of cached one-block chunk tails, transposed: one column per chunk, grouped by filter size, and per
/// filter bit a row telling which columns have it set. A search tests its few id grams against rows, a handful of
/// words for hundreds of chunks, instead of one filter per chunk, where each test waits on memory; then each chunk
/// looks up one bit. A removed column is cleared and reused by a later add. Not thread-safe: its owner
/// (<see cref="ChunkTailTable"/>, <see cref="Reading.FileChunkTails"/>) calls it under its lock.
/// </summary>
internal sealed class IdFilterSieve
{
    private readonly Dictionary<int, Group> _groups = [];
    private readonly List<Group> _byIndex = [];
    private int _version;
    private int _removals;
    private SieveCandidates? _last;

    /// <summary>Counts adds and removes: candidates made at a version reflect exactly the columns added at or before it.</summary>
    public int Version => _version;

    /// <summary>Counts removes: an entry kept from before a remove may name a column cleared (or reused) since.</summary>
    public int Removals => Volatile.Read(ref _removals);

    /// <summary>
    /// Adds a column for a chunk whose one block has <paramref name="idFilter"/>; returns its group and column (the
    /// <see cref="Version"/> after the add is the column's, for <see cref="SieveCandidates.MayMatch(in SieveEntry)"/>).
    /// </summary>
    public (int Group, int Column) Add(ReadOnlySpan<byte> idFilter)
    {
        var bits = idFilter.Length * 8;
        if (!_groups.TryGetValue(bits, out var group))
        {
            group = new Group(bits, _byIndex.Count);
            _groups.Add(bits, group);
            _byIndex.Add(group);
        }

        var reused = group.Free.TryPop(out var column);
        column = reused ? column : group.Columns;
        var word = column >> 6;
        if (!reused && word >= group.Rows[0].Length)
        {
            for (var p = 0; p < bits; p++)
            {
                Array.Resize(ref group.Rows[p], group.Rows[p].Length * 2);
            }
        }

        SetColumn(group.Rows, idFilter, column, on: true);
        group.Columns += reused ? 0 : 1;
        _version++;
        return (group.Index, column);
    }

    /// <summary>
    /// Adds a column for <paramref name="tail"/>'s one block's id filter (see <see cref="ChunkTailTable.SieveFilter"/>); its
    /// entry, or <see cref="SieveEntry.None"/> when the tail has no such filter.
    /// </summary>
    public SieveEntry Add(ChunkTail tail)
    {
        var ids = ChunkTailTable.SieveFilter(tail, out var min, out var max, out var size);
        if (ids.IsEmpty)
        {
            return SieveEntry.None;
        }

        var (group, column) = Add(ids);
        return new SieveEntry(group, column, min, max, size, _version);
    }

    /// <summary>Clears the column <see cref="Add(ReadOnlySpan{byte})"/> made for <paramref name="idFilter"/>, for a later add to reuse.</summary>
    public void Remove(int group, int column, ReadOnlySpan<byte> idFilter)
    {
        SetColumn(_byIndex[group].Rows, idFilter, column, on: false);
        _byIndex[group].Free.Push(column);
        _version++;
        Volatile.Write(ref _removals, _removals + 1);
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

    // Sets (or clears) the column's bit in the row of each bit set in the filter.
    private static void SetColumn(ulong[][] rows, ReadOnlySpan<byte> idFilter, int column, bool on)
    {
        var word = column >> 6;
        var bit = 1UL << (column & 63);
        for (var i = 0; i < idFilter.Length; i++)
        {
            var b = idFilter[i];
            while (b != 0)
            {
                ref var row = ref rows[(i * 8) + System.Numerics.BitOperations.TrailingZeroCount(b)][word];
                row = on ? row | bit : row & ~bit;
                b &= (byte)(b - 1);
            }
        }
    }

    private sealed class Group(int bits, int index)
    {
        public int Index { get; } = index;

        public int Columns { get; set; }

        public ulong[][] Rows { get; } = [.. Enumerable.Range(0, bits).Select(_ => new ulong[1])];

        public Stack<int> Free { get; } = new();
    }
}

/// <summary>Which sieve columns a search's filter may match; columns added after it was made count as may-match.</summary>
internal sealed class SieveCandidates(LiteralPrefilter filter, int version, ulong[][] byGroup, int[] columns)
{
    public LiteralPrefilter Filter { get; } = filter;

    public int Version { get; } = version;

    public bool MayMatch(int group, int column) =>
        group >= columns.Length || column >= columns[group] || (byGroup[group][column >> 6] & (1UL << (column & 63))) != 0;

    /// <summary>Whether any of the columns <paramref name="ofGroup"/> of <paramref name="group"/> may match.</summary>
    public bool AnyMayMatch(int group, ReadOnlySpan<int> ofGroup)
    {
        if (group >= columns.Length)
        {
            return true;
        }

        var (bits, known) = (byGroup[group], columns[group]);
        foreach (var column in ofGroup)
        {
            if (column >= known || (bits[column >> 6] & (1UL << (column & 63))) != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether the chunk of <paramref name="entry"/> may match; a column added after these candidates were made (or
    /// reused since) may, since they do not reflect its filter.
    /// </summary>
    public bool MayMatch(in SieveEntry entry) => entry.AddedAt > Version || MayMatch(entry.Group, entry.Column);
}
