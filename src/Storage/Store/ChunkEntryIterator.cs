using System.Buffers;
using LokiSharp.LogQL.Text;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Storage.Store;

/// <summary>Encoded chunk bytes handed to a reader; rented ones go back to the pool when the reader is done.</summary>
internal readonly record struct ChunkBytes(byte[] Array, int Offset, int Length, bool Rented)
{
    public ReadOnlySpan<byte> Span => Array.AsSpan(Offset, Length);

    public void Release()
    {
        if (Rented)
        {
            ArrayPool<byte>.Shared.Return(Array);
        }
    }
}

/// <summary>
/// Where the chunks a <see cref="ChunkEntryIterator"/> reads come from: names them in warnings, and hears of every
/// chunk or block skipped so it can log and count it where the data lives.
/// </summary>
internal interface IChunkOrigin
{
    /// <summary>How a warning names the chunk (its pack file and offset, for stored chunks).</summary>
    string Describe(in ChunkRef chunk);

    /// <summary>
    /// The whole chunk (<paramref name="block"/> -1) or one block of it was skipped; <paramref name="warning"/> is
    /// the text the query reports. Called once per iterator and block, so possibly many times per block.
    /// </summary>
    void Skipped(in ChunkRef chunk, int block, CorruptionKind kind, string warning);
}

/// <summary>
/// Entries of one stream from its stored chunks, merged by time. Chunks are opened lazily in the query's
/// direction, only once the entry they could precede is reached, so non-overlapping chunks are read one at a
/// time; overlapping ones are merged.
/// </summary>
internal sealed partial class ChunkEntryIterator : IEntryIterator
{
    private readonly Func<ChunkRef, ChunkBytes> _load;
    private readonly ChunkTailSource? _tails;
    private readonly ChunkSieveSource? _sieve;
    private readonly IChunkOrigin _origin;
    private readonly ChunkRef[] _pending;
    private readonly EntryQuery _query;
    private readonly List<ChunkCursor> _active = [];
    private readonly List<string> _warnings = [];
    private int _nextPending;
    private ChunkCursor? _current;
    private bool _disposed;

    public ChunkEntryIterator(List<ChunkRef> chunks, in EntryQuery query, Func<ChunkRef, ChunkBytes> load, IChunkOrigin origin,
        ChunkTailSource? tails = null, ChunkSieveSource? sieve = null)
    {
        _query = query;
        _load = load;
        _tails = tails;
        _sieve = sieve;
        _origin = origin;
        if (RuleOutAll(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(chunks)) is { } ruledOut)
        {
            _ruledOut = ruledOut;
            _pending = [];
            return;
        }

        _pending = [.. chunks];
        Order(_pending, query.Direction);
    }

    /// <summary>
    /// Reads chunks whose sieve entries are known (<see cref="StreamSieve"/>), already in the order the reader reads them
    /// (<see cref="OrderOf"/>): <paramref name="entries"/>[i] is <paramref name="chunks"/>[i]'s (<see cref="SieveEntry.None"/>:
    /// none), judged against <paramref name="candidates"/>; a chunk they do not rule out is judged from its tail. Both
    /// arrays become the reader's.
    /// </summary>
    public ChunkEntryIterator(ChunkRef[] chunks, SieveEntry[] entries, SieveCandidates candidates, in EntryQuery query,
        Func<ChunkRef, ChunkBytes> load, IChunkOrigin origin, ChunkTailSource tails)
    {
        _query = query;
        _load = load;
        _tails = tails;
        _origin = origin;
        _pending = chunks;
        _entries = entries;
        _candidates = candidates;
    }

    public ReadStats Stats { get; } = new();

    /// <summary>A reader with nothing to read, counting <paramref name="ruledOut"/> (the skips of a stream ruled out whole) on its first advance.</summary>
    public static ChunkEntryIterator RuledOut(in EntryQuery query, IChunkOrigin origin, ReadStats ruledOut) =>
        new([], query, static _ => default, origin) { _ruledOut = ruledOut };

    public IReadOnlyList<string> Warnings => _warnings;

    public LogEntry Current => _current is null ? default : _current.Current;

    public bool MoveNext()
    {
        if (_ruledOut is { } ruledOut)
        {
            _ruledOut = null;
            Stats.Add(ruledOut);
        }

        if (_current is not null && !_current.MoveNext())
        {
            _active.Remove(_current);
            _current.Dispose();
        }

        _current = null;
        var forward = _query.Direction == Direction.Forward;
        while (true)
        {
            var best = Best(forward);
            if (_nextPending >= _pending.Length)
            {
                _current = best;
                return best is not null;
            }

            var next = _pending[_nextPending];
            if (best is not null && (forward ? next.From > best.Timestamp : next.Through < best.Timestamp))
            {
                _current = best;
                return true;
            }

            _nextPending++;
            if (!MayMatch(_nextPending - 1))
            {
                continue;
            }

            var cursor = ChunkCursor.Open(next, _query, _load, this);
            if (cursor is not null)
            {
                if (cursor.MoveNext())
                {
                    _active.Add(cursor);
                }
                else
                {
                    cursor.Dispose();
                }
            }
        }
    }

    /// <inheritdoc />
    public bool HandsOutRuns => _query.Direction == Direction.Forward;

    /// <inheritdoc />
    /// <remarks>
    /// <see cref="MoveNext"/> returns the oldest open chunk's entry (ties to the chunk opened first) and opens the next
    /// pending chunk before an entry not older than its start, so the run stops before the oldest timestamp another open
    /// chunk or the next pending chunk could give.
    /// </remarks>
    public bool TryTakeRun(long before, out EntryRun run)
    {
        run = default;
        if (_current is null || _query.Direction != Direction.Forward)
        {
            return false;
        }

        before = Math.Min(before, _query.Through);
        foreach (var cursor in _active)
        {
            if (!ReferenceEquals(cursor, _current))
            {
                before = Math.Min(before, cursor.Timestamp);
            }
        }

        if (_nextPending < _pending.Length)
        {
            before = Math.Min(before, _pending[_nextPending].From);
        }

        return _current.TryTakeRun(before, out run);
    }

    public void Dispose()
    {
        foreach (var cursor in _active)
        {
            cursor.Dispose();
        }

        _active.Clear();
        _current = null;
        if (!_disposed)
        {
            _disposed = true;
            BlockReadTotals.Add(Stats);
        }
    }

    // The index lists a stream's chunks in time order as a rule: when their keys strictly increase, the order a sort would
    // give is that one (or its reverse) and unique, so the sort is spared.
    private static void Order(ChunkRef[] chunks, Direction direction)
    {
        if (direction == Direction.Forward)
        {
            if (!StrictlyIncreasing(chunks, static c => c.From))
            {
                Array.Sort(chunks, ByFrom);
            }
        }
        else if (StrictlyIncreasing(chunks, static c => c.Through))
        {
            Array.Reverse(chunks);
        }
        else
        {
            Array.Sort(chunks, ByThroughDescending);
        }
    }

    /// <summary>
    /// The order a reader reads <paramref name="chunks"/> in for <paramref name="direction"/>, as positions: the reader of
    /// <c>chunks[order[0]], chunks[order[1]], ...</c> needs no ordering of its own.
    /// </summary>
    public static int[] OrderOf(ChunkRef[] chunks, Direction direction)
    {
        var order = new int[chunks.Length];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        // Sorting positions by the same comparison orders them as sorting the chunks would (one algorithm, asked the same
        // questions, gives the same answers), so chunks with equal keys keep the order Order gives them.
        if (direction == Direction.Forward)
        {
            if (!StrictlyIncreasing(chunks, static c => c.From))
            {
                Array.Sort(order, (a, b) => ByFrom(chunks[a], chunks[b]));
            }
        }
        else if (StrictlyIncreasing(chunks, static c => c.Through))
        {
            Array.Reverse(order);
        }
        else
        {
            Array.Sort(order, (a, b) => ByThroughDescending(chunks[a], chunks[b]));
        }

        return order;
    }

    private static int ByFrom(ChunkRef a, ChunkRef b) => a.From.CompareTo(b.From);

    private static int ByThroughDescending(ChunkRef a, ChunkRef b) => b.Through.CompareTo(a.Through);

    private static bool StrictlyIncreasing(ChunkRef[] chunks, Func<ChunkRef, long> key)
    {
        for (var i = 1; i < chunks.Length; i++)
        {
            if (key(chunks[i]) <= key(chunks[i - 1]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Records a skipped chunk (<paramref name="block"/> -1) or block: a warning for the query, a report to the origin.</summary>
    private void Skip(in ChunkRef chunk, int block, CorruptionKind kind, string warning)
    {
        Stats.Corrupt++;
        _warnings.Add(warning);
        _origin.Skipped(chunk, block, kind, warning);
    }

    // " (250 entries, 2024-05-01T10:00:00Z to 2024-05-01T10:04:09.5Z)": how much data the skip hides and where.
    private static string Extent(int entries, long from, long through) =>
        entries <= 0 ? string.Empty
            : $" ({entries} entries, {GoTimestamp.FormatRfc3339Nano(from)} to {GoTimestamp.FormatRfc3339Nano(through)})";

    private ChunkCursor? Best(bool forward)
    {
        ChunkCursor? best = null;
        foreach (var cursor in _active)
        {
            if (best is null || (forward ? cursor.Timestamp < best.Timestamp : cursor.Timestamp > best.Timestamp))
            {
                best = cursor;
            }
        }

        return best;
    }

    /// <summary>Position within one chunk: the decoded block and entry index.</summary>
    private sealed class ChunkCursor : IDisposable
    {
        private const long DecodedBytesPerEntry = 24;

        private readonly ChunkRef _chunk;
        private readonly ChunkBytes _data;
        private readonly ChunkLayout _layout;
        private readonly EntryQuery _query;
        private readonly ChunkEntryIterator _owner;
        private readonly ReadStats _stats;
        private readonly DecodedBlock _block = new();
        private readonly bool _forward;
        private int _blockIndex;
        private int _entry;
        private bool _blockLoaded;
        private bool _done;
        private bool _disposed;

        // Bytes reserved in the query's memory budget: the chunk's bytes, and its largest decoded block so far.
        private long _reserved;

        private ChunkCursor(in ChunkRef chunk, ChunkBytes data, ChunkLayout layout, in EntryQuery query, ChunkEntryIterator owner)
        {
            _chunk = chunk;
            _data = data;
            _layout = layout;
            _query = query;
            _owner = owner;
            _stats = owner.Stats;
            _forward = query.Direction == Direction.Forward;
            _blockIndex = _forward ? -1 : layout.Blocks.Count;
        }

        public long Timestamp { get; private set; }

        public LogEntry Current => _block[_entry];

        public static ChunkCursor? Open(in ChunkRef chunk, in EntryQuery query, Func<ChunkRef, ChunkBytes> load,
            ChunkEntryIterator owner)
        {
            ChunkBytes data;
            try
            {
                data = load(chunk);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ChunkCorruptException)
            {
                owner.Skip(chunk, -1, CorruptionKind.Chunk,
                    $"skipped unreadable chunk {owner._origin.Describe(chunk)}{Extent(chunk.Entries, chunk.From, chunk.Through)}: {e.Message}");
                return null;
            }

            // Chunks read from disk are copied into a buffer the cursor holds until it is done.
            var reserved = data.Rented ? data.Length : 0;
            try
            {
                query.Memory?.Reserve(reserved);
            }
            catch
            {
                data.Release();
                throw;
            }

            try
            {
                var layout = ChunkLayout.Parse(data.Span);
                owner.Stats.Chunks++;
                owner.Stats.LoadedBytes += data.Length;
                return new ChunkCursor(chunk, data, layout, query, owner) { _reserved = reserved };
            }
            catch (ChunkCorruptException e)
            {
                data.Release();
                query.Memory?.Release(reserved);
                owner.Skip(chunk, -1, CorruptionKind.Chunk,
                    $"skipped corrupt chunk {owner._origin.Describe(chunk)}{Extent(chunk.Entries, chunk.From, chunk.Through)}: {e.Message}");
                return null;
            }
        }

        public bool MoveNext()
        {
            while (!_done)
            {
                if (_blockLoaded)
                {
                    _entry += _forward ? 1 : -1;
                    if (_entry >= 0 && _entry < _block.Count)
                    {
                        var ts = _block.TimestampAt(_entry);
                        if (_forward ? ts >= _query.Through : ts < _query.From)
                        {
                            _done = true;
                            return false;
                        }

                        if (_query.Filter is not null && !_query.Filter.Matches(_block.LineAt(_entry)))
                        {
                            continue;
                        }

                        Timestamp = ts;
                        return true;
                    }

                    _blockLoaded = false;
                }

                LoadNextBlock();
            }

            return false;
        }

        /// <summary>
        /// The current entry and those after it in its block older than <paramref name="before"/>; the cursor moves to the
        /// last of them. False when the current entry is not older.
        /// </summary>
        public bool TryTakeRun(long before, out EntryRun run)
        {
            if (!_blockLoaded || Timestamp >= before)
            {
                run = default;
                return false;
            }

            // Entries of a block are in time order: the run ends at the first not older than the limit.
            var start = _entry;
            var end = Math.Max(start + 1, _block.LowerBound(before));
            _entry = end - 1;
            Timestamp = _block.TimestampAt(_entry);
            run = new EntryRun(_block, start, end, _query.Filter);
            return true;
        }

        public void Dispose()
        {
            _block.Dispose();
            if (!_disposed)
            {
                _disposed = true;
                _data.Release();
                _query.Memory?.Release(_reserved);
                _reserved = 0;
            }
        }

        private void LoadNextBlock()
        {
            var chunk = _data.Span;
            while (true)
            {
                _blockIndex += _forward ? 1 : -1;
                if (_blockIndex < 0 || _blockIndex >= _layout.Blocks.Count)
                {
                    _done = true;
                    return;
                }

                var info = _layout.Blocks[_blockIndex];
                if (_forward ? info.MinTime >= _query.Through : info.MaxTime < _query.From)
                {
                    // Blocks are in time order: nothing further in this direction can match.
                    _stats.BlocksSkippedByTime += _forward ? _layout.Blocks.Count - _blockIndex : _blockIndex + 1;
                    _done = true;
                    return;
                }

                if (!info.Overlaps(_query.From, _query.Through))
                {
                    _stats.BlocksSkippedByTime++;
                    continue;
                }

                if (_query.Filter is not null && !_query.Filter.MayMatchBlock(ChunkLayout.FilterOf(chunk, info), ChunkLayout.IdFilterOf(chunk, info)))
                {
                    _stats.BlocksSkippedByContent++;
                    _stats.SkippedByContentBytes += info.CompressedSize;
                    continue;
                }

                ReserveDecoded(info);
                try
                {
                    _block.Decode(chunk, _layout.Encoding, info);
                }
                catch (ChunkCorruptException e)
                {
                    _owner.Skip(_chunk, _blockIndex, CorruptionKind.Block,
                        $"skipped corrupt block {_blockIndex + 1} of {_layout.Blocks.Count} in chunk {_owner._origin.Describe(_chunk)}" +
                        $"{Extent(info.EntryCount, info.MinTime, info.MaxTime)}: {e.Message}");
                    continue;
                }

                _stats.BlocksDecoded++;
                _stats.DecompressedBytes += info.RawSize;
                _stats.CompressedBytes += info.CompressedSize;
                _entry = _forward ? _block.LowerBound(_query.From) - 1 : _block.LowerBound(_query.Through);
                _blockLoaded = true;
                return;
            }
        }

        // The decoded block's buffers are reused and grow to the largest block decoded: its raw bytes, the lines
        // rebuilt from a tokenized block (at most as many again) and the per-entry offsets and timestamps.
        private void ReserveDecoded(in BlockInfo info)
        {
            if (_query.Memory is not { } memory)
            {
                return;
            }

            var needed = (_data.Rented ? _data.Length : 0) + (2L * info.RawSize) + (DecodedBytesPerEntry * (long)info.EntryCount);
            if (needed > _reserved)
            {
                memory.Reserve(needed - _reserved);
                _reserved = needed;
            }
        }
    }
}
