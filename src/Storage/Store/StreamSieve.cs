using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Storage.Store;

/// <summary>
/// One stream's chunks as its directory's sieve sees them (<see cref="ChunkTailTable"/>): per chunk its time range in the
/// index and its sieve entry, in one array. A needle search rules out nearly every stream; with this summary that costs a
/// pass over a few words per chunk, not a copy of the stream's chunk list and a table lookup per chunk. Made by searches
/// and kept by the index with the stream's chunk list (<see cref="LabelIndex.SummaryOf{T}"/>, dropped when the list
/// changes); made again when the table's sieve has lost a column since (a kept entry may name a cleared or reused
/// column), or when the table has kept more tails while some of the stream's chunks had none.
/// </summary>
internal sealed class StreamSieve
{
    private readonly ChunkTailTable _table;
    private readonly Chunk[] _chunks;
    private readonly int _removals;
    private readonly int _tails;
    private readonly bool _complete;

    private StreamSieve(ChunkTailTable table, ReadOnlySpan<ChunkRef> chunks)
    {
        // Read before the entries: a tail kept or a column removed meanwhile makes this summary stale, not wrong.
        _table = table;
        _removals = table.SieveRemovals;
        _tails = table.Count;
        _complete = true;
        _chunks = new Chunk[chunks.Length];
        for (var i = 0; i < chunks.Length; i++)
        {
            ref readonly var c = ref chunks[i];
            var entry = table.Find(c.PackId, c.Offset, out var kept) is null ? SieveEntry.None : kept;
            _chunks[i] = new Chunk(c.From, c.Through, entry);
            _complete &= entry.Group >= 0;
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
        var stats = new ReadStats();
        foreach (ref readonly var c in _chunks.AsSpan())
        {
            // The index lists only the chunks overlapping the range; the others are not counted at all.
            if (c.From < through && c.Through >= from &&
                !ChunkSieve.CountSkip(ChunkSieve.Judge(c.Entry, candidates, from, through, out var skippedBytes), skippedBytes, stats))
            {
                return null;
            }
        }

        return stats;
    }

    private bool Holds(ChunkTailTable table) =>
        ReferenceEquals(table, _table) && _removals == table.SieveRemovals && (_complete || _tails == table.Count);

    private readonly record struct Chunk(long From, long Through, SieveEntry Entry);
}
