using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Storage.Store;

/// <summary>
/// One stream's chunks as its directory's sieve sees them (<see cref="ChunkTailTable"/>): the chunk refs and, beside them,
/// each chunk's sieve entry. A needle search rules out nearly every stream; with this summary that costs a pass over a
/// few words per chunk, not a copy of the stream's chunk list and a table lookup per chunk (and, when all its chunks have
/// columns in one group, one bit test per chunk). Made by searches and kept by the index with the stream's chunk list
/// (<see cref="LabelIndex.SummaryOf{T}"/>, dropped when the list changes); made again when the table's sieve has lost a
/// column since (a kept entry may name a cleared or reused column), or when the table has kept more tails while some of
/// the stream's chunks had none.
/// </summary>
internal sealed class StreamSieve
{
    private readonly ChunkTailTable _table;
    private readonly ChunkRef[] _refs;
    private readonly SieveEntry[] _entries;
    private readonly int _removals;
    private readonly int _tails;
    private readonly bool _complete;

    // The order a reader reads all chunks in, per direction, made on first use.
    private int[]? _forward;
    private int[]? _backward;

    // When every chunk has a column in one group: the columns, and what a search whose range covers every chunk and
    // block needs to rule them all out at once (one bit test per chunk).
    private readonly int _group = -1;
    private readonly int[] _columns = [];
    private readonly int _addedAt;
    private readonly long _latestFrom = long.MinValue;
    private readonly long _earliestThrough = long.MaxValue;
    private readonly long _latestMinTime = long.MinValue;
    private readonly long _earliestMaxTime = long.MaxValue;
    private readonly long _bytes;

    private StreamSieve(ChunkTailTable table, ReadOnlySpan<ChunkRef> chunks)
    {
        // Read before the entries: a tail kept or a column removed meanwhile makes this summary stale, not wrong.
        _table = table;
        _removals = table.SieveRemovals;
        _tails = table.Count;
        _complete = true;
        _refs = chunks.ToArray();
        _entries = new SieveEntry[chunks.Length];
        for (var i = 0; i < chunks.Length; i++)
        {
            // Complete once every chunk's tail is kept: the table only ever adds, so nothing new can be learnt then.
            var cached = table.Find(chunks[i].PackId, chunks[i].Offset, out var kept) is not null;
            _entries[i] = cached ? kept : SieveEntry.None;
            _complete &= cached;
        }

        if (chunks.IsEmpty || !OneGroup(_entries))
        {
            return;
        }

        _group = _entries[0].Group;
        _columns = new int[chunks.Length];
        for (var i = 0; i < _entries.Length; i++)
        {
            ref readonly var entry = ref _entries[i];
            _columns[i] = entry.Column;
            _addedAt = Math.Max(_addedAt, entry.AddedAt);
            _latestFrom = Math.Max(_latestFrom, _refs[i].From);
            _earliestThrough = Math.Min(_earliestThrough, _refs[i].Through);
            _latestMinTime = Math.Max(_latestMinTime, entry.MinTime);
            _earliestMaxTime = Math.Min(_earliestMaxTime, entry.MaxTime);
            _bytes += entry.CompressedSize;
        }
    }

    /// <summary>The summary of <paramref name="chunks"/> over <paramref name="table"/>: <paramref name="kept"/> while it holds.</summary>
    public static StreamSieve Summarize(ChunkTailTable table, ReadOnlySpan<ChunkRef> chunks, StreamSieve? kept) =>
        kept is not null && kept.Holds(table) ? kept : new StreamSieve(table, chunks);

    /// <summary>
    /// What reading the stream's chunks overlapping <c>[from, through)</c> would count when <paramref name="candidates"/>
    /// rule out every one of them (as <see cref="ChunkEntryIterator"/>'s own judging would); null when one may match.
    /// </summary>
    public ReadStats? RuleOutAll(SieveCandidates candidates, long from, long through)
    {
        // Every chunk overlaps the range and every block lies in it: each chunk counts as one block skipped by content.
        if (_group >= 0 && _addedAt <= candidates.Version && _latestFrom < through && _earliestThrough >= from &&
            _latestMinTime < through && _earliestMaxTime >= from)
        {
            return candidates.AnyMayMatch(_group, _columns)
                ? null
                : new ReadStats { Chunks = _columns.Length, BlocksSkippedByContent = _columns.Length, SkippedByContentBytes = _bytes };
        }

        var stats = new ReadStats();
        for (var i = 0; i < _refs.Length; i++)
        {
            // The index lists only the chunks overlapping the range; the others are not counted at all.
            if (_refs[i].Overlaps(from, through) &&
                !ChunkSieve.CountSkip(ChunkSieve.Judge(_entries[i], candidates, from, through, out var skippedBytes), skippedBytes, stats))
            {
                return null;
            }
        }

        return stats;
    }

    /// <summary>
    /// The stream's chunks overlapping <c>[from, through)</c>, each with its sieve entry, in the order a reader reads them
    /// in <paramref name="direction"/> (see <see cref="ChunkEntryIterator.OrderOf"/>).
    /// </summary>
    public (ChunkRef[] Chunks, SieveEntry[] Entries) Overlapping(long from, long through, Direction direction)
    {
        var count = 0;
        foreach (ref readonly var c in _refs.AsSpan())
        {
            count += c.Overlaps(from, through) ? 1 : 0;
        }

        // The order of all chunks is kept per direction (a stream read again is read in the same order); a part of them
        // is ordered afresh, as a sort of that part alone would order it.
        var (chunks, entries) = (new ChunkRef[count], new SieveEntry[count]);
        for (int i = 0, n = 0; n < count; i++)
        {
            if (_refs[i].Overlaps(from, through))
            {
                (chunks[n], entries[n]) = (_refs[i], _entries[i]);
                n++;
            }
        }

        int[] order;
        if (count == _refs.Length)
        {
            ref var kept = ref direction == Direction.Forward ? ref _forward : ref _backward;
            order = Volatile.Read(ref kept) ?? Keep(ref kept, ChunkEntryIterator.OrderOf(chunks, direction));
        }
        else
        {
            order = ChunkEntryIterator.OrderOf(chunks, direction);
        }

        var (ordered, orderedEntries) = (new ChunkRef[count], new SieveEntry[count]);
        for (var i = 0; i < count; i++)
        {
            (ordered[i], orderedEntries[i]) = (chunks[order[i]], entries[order[i]]);
        }

        return (ordered, orderedEntries);

        static int[] Keep(ref int[]? kept, int[] order)
        {
            Volatile.Write(ref kept, order);
            return order;
        }
    }

    // Every chunk has a column, all in one group.
    private static bool OneGroup(SieveEntry[] entries)
    {
        foreach (ref readonly var entry in entries.AsSpan())
        {
            if (entry.Group < 0 || entry.Group != entries[0].Group)
            {
                return false;
            }
        }

        return true;
    }

    private bool Holds(ChunkTailTable table) =>
        ReferenceEquals(table, _table) && _removals == table.SieveRemovals && (_complete || _tails == table.Count);
}
