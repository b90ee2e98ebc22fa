using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LokiSharp.Ingester.Distribution;
using LokiSharp.Ingester.Push;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;

namespace LokiSharp.Ingester.Head;

/// <summary>Where one uncompressed head entry's bytes are: a segment of its block (or a reader's copy) and the line and metadata lengths there.</summary>
/// <remarks>Made on the fly from a tail's segments, for readers and compression; the tail itself keeps no list of them.</remarks>
internal readonly record struct HeadEntry(long Timestamp, byte[] Segment, int Offset, int LineLength, int MetadataLength, int Sequence);

/// <summary>
/// Entries of one stream not yet in the store. Recent entries stay uncompressed (the tail) in segments of up to
/// <see cref="SegmentPool.MaxSize"/>, each entry a 16-byte header (timestamp, line and metadata lengths) followed by
/// its line and metadata, so a tail needs no index beside its bytes. Every <see cref="PartSize"/> raw bytes the tail is sorted and compressed
/// into a part, a one-block chunk, which is what keeps the head a few times smaller than the raw data; parts go to
/// the spill (<see cref="HeadSpill"/>) when there is one, so the process keeps only the tails. Flushing stores the
/// parts as they are. The segments of a compressed tail go back to <see cref="SegmentPool"/>, so
/// readers get copies of tail entries, never the segments. Not thread-safe: the owning stream's lock guards it.
/// </summary>
internal sealed class HeadBlock(int partSize, HeadSpill? spill, TailBudget? tails = null)
{
    // Segments grow from small (many quiet streams) to large (busy ones), doubling per segment.
    private const int MinSegmentSize = SegmentPool.MinSize;
    private const int MaxSegmentSize = SegmentPool.MaxSize;

    // One scratch buffer per thread for encoding metadata, so appends allocate nothing per entry.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _scratch;

    // One output buffer per thread for compressing a tail; the part keeps an exact-size copy.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _compressed;

    // Timestamp, line length, metadata length: the header before each tail entry's bytes in its segment.
    private const int EntryHeader = 16;

    private readonly List<HeadPart> _parts = [];

    // WAL record ids as zigzag varint deltas: a stream in every push of a long-lived block gathers thousands, and
    // consecutive ids differ by little, so one byte each instead of eight.
    private readonly ArrayBufferWriter<byte> _recordIds = new(16);
    private long _lastRecordId;
    private int _recordCount;

    // Every segment the tail's entries are in, the current one last (none before the first append and after
    // sealing); the tail starts at _tailStart in the first and ends at _tailEnds[i] in every one but the current,
    // where it ends at _segmentUsed.
    private readonly List<byte[]> _tailSegments = [];
    private readonly List<int> _tailEnds = [];
    private byte[] _segment = [];
    private int _segmentUsed;
    private int _tailStart;
    private int _tailCount;
    private long _tailLast;
    private long _tailBytes;
    private bool _tailUnsorted;
    private int _partEntries;

    // Where the tail's runs start, in arrival order: a run is a push of many entries (StartRun) or what follows a step
    // back in time, and holds its entries in time order. Pushes of one stream that overtake each other on several
    // connections leave a tail of runs that do not overlap in time: compressing then orders the runs, not every entry
    // (see AppendRuns). Past MaxRuns a tail's runs are not kept and it is sorted entry by entry.
    // The runs' array comes from the shared pool: a tail's runs grow one push at a time, and growing a list for every
    // tail of every stream was the largest allocation of the ingest.
    private TailRun[] _runs = [];
    private int _runCount;
    private bool _runRequested;
    private bool _runsOverflowed;
    private const int MaxRuns = 256;

    /// <summary>Unsorted tails compressed in the order of their runs rather than by sorting every entry (for tests).</summary>
    internal int TailsOrderedByRuns { get; private set; }

    /// <summary>Raw bytes after which the tail is compressed into a part.</summary>
    public int PartSize { get; } = partSize;

    /// <summary>The compressed parts, oldest first.</summary>
    public IReadOnlyList<HeadPart> Parts => _parts;

    /// <summary>Ids of the WAL records whose entries for this stream are in this block, in append order (a new list each call).</summary>
    public IReadOnlyList<long> RecordIds
    {
        get
        {
            var ids = new List<long>(_recordCount);
            var encoded = _recordIds.WrittenSpan;
            var id = 0L;
            for (var position = 0; Varint.TryRead(encoded, ref position, out var zigzag);)
            {
                id += Varint.UnZigZag(zigzag);
                ids.Add(id);
            }

            return ids;
        }
    }

    /// <summary>Line plus metadata bytes held, compressed or not (what the cut decision and limits count).</summary>
    public long RawBytes { get; private set; }

    public int EntryCount => _partEntries + _tailCount;

    public long MinTimestamp { get; private set; } = long.MaxValue;

    public long MaxTimestamp { get; private set; } = long.MinValue;

    /// <summary>Oldest WAL segment holding an entry of this block; the segment must be kept until it is flushed.</summary>
    public long OldestWalSegment { get; private set; } = long.MaxValue;

    /// <summary>Wall-clock ticks of the first append, for <c>max_chunk_age</c>.</summary>
    public long CreatedAt { get; private set; }

    public bool IsEmpty => EntryCount == 0;

    /// <summary>
    /// Appends one entry whose metadata is already in the chunk encoding (WAL replay); compresses the tail with a builder
    /// of <paramref name="builders"/> when it reaches <see cref="PartSize"/>.
    /// </summary>
    public void AppendEncoded(long timestamp, ReadOnlySpan<byte> line, ReadOnlySpan<byte> encodedMetadata, long recordId, long walSegment, long now,
        ChunkBuilderPool builders)
    {
        NoteSource(recordId, walSegment, now);
        AppendToTail(timestamp, line, encodedMetadata, builders);
    }

    /// <summary>
    /// Appends a push's entries of this stream in their order, as appending them one at a time would (an entry with a shared
    /// metadata array takes its encoding as it is): the record, WAL segment and time they share are noted once.
    /// </summary>
    public void AppendPush(PushBatch batch, List<ValidatedEntry> entries, long recordId, long walSegment, long now, ChunkBuilderPool builders)
    {
        if (entries.Count == 0)
        {
            return;
        }

        NoteSource(recordId, walSegment, now);
        foreach (ref readonly var entry in CollectionsMarshal.AsSpan(entries))
        {
            var line = batch.Bytes(entry.LineStart, entry.LineLength);
            AppendToTail(entry.TimestampNs, line, entry.Shared >= 0 ? PushValidator.SharedEncodingAt(entry.Shared) : Encode(entry.Metadata), builders);
        }
    }

    // The metadata in the chunk encoding, in this thread's scratch (valid until the next call).
    private static ReadOnlySpan<byte> Encode(ReadOnlySpan<LabelPair> metadata)
    {
        var writer = _scratch ??= new ArrayBufferWriter<byte>(256);
        writer.ResetWrittenCount();
        StructuredMetadata.Encode(writer, metadata);
        return writer.WrittenSpan;
    }

    // What entries about to be appended share: the WAL record holding them, its segment, the time of the append.
    private void NoteSource(long recordId, long walSegment, long now)
    {
        if (IsEmpty)
        {
            CreatedAt = now;
        }

        OldestWalSegment = Math.Min(OldestWalSegment, walSegment);
        // A push appends all its entries of a stream under one lock, so a record's id arrives as one run.
        if (recordId > 0 && (_recordCount == 0 || _lastRecordId != recordId))
        {
            var delta = recordId - _lastRecordId;
            Varint.Write(_recordIds, Varint.ZigZag(delta));
            _lastRecordId = recordId;
            _recordCount++;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AppendToTail(long timestamp, ReadOnlySpan<byte> line, ReadOnlySpan<byte> encodedMetadata, ChunkBuilderPool builders)
    {
        var size = line.Length + encodedMetadata.Length;
        if (EntryHeader + size > _segment.Length - _segmentUsed)
        {
            NextSegment(size);
        }

        var stepsBack = _tailCount > 0 && timestamp < _tailLast;
        _tailUnsorted |= stepsBack;
        if (_tailCount == 0 || stepsBack || _runRequested)
        {
            StartTailRun();
        }

        _runRequested = false;
        _tailLast = timestamp;
        var target = _segment.AsSpan(_segmentUsed, EntryHeader + size);
        BinaryPrimitives.WriteInt64LittleEndian(target, timestamp);
        BinaryPrimitives.WriteInt32LittleEndian(target[8..], line.Length);
        BinaryPrimitives.WriteInt32LittleEndian(target[12..], encodedMetadata.Length);
        line.CopyTo(target[EntryHeader..]);
        encodedMetadata.CopyTo(target[(EntryHeader + line.Length)..]);
        _tailCount++;
        _segmentUsed += EntryHeader + size;
        _tailBytes += size;
        RawBytes += size;
        MinTimestamp = Math.Min(MinTimestamp, timestamp);
        MaxTimestamp = Math.Max(MaxTimestamp, timestamp);

        // Past the ingester's tail budget, a tail of a quarter part is compressed early, so the first fill of many
        // streams does not hold every tail near the part size at once (the shared counter is read only past a quarter).
        if (_tailBytes >= PartSize || (_tailBytes >= PartSize / 4 && tails is { IsOver: true }))
        {
            CompressTail(builders);
        }
    }

    // A segment with room for an entry of size bytes after its header becomes the current one.
    private void NextSegment(int size)
    {
        if (_segment.Length > 0)
        {
            _tailEnds.Add(_segmentUsed);
        }

        // Contents undefined: every byte a reader can see is written before it is referenced.
        _segment = SegmentPool.Shared.Rent(Math.Max(Math.Clamp(_segment.Length * 2, MinSegmentSize, MaxSegmentSize), EntryHeader + size));
        _segmentUsed = 0;
        if (_tailSegments.Count == 0)
        {
            _tailStart = 0;
        }

        _tailSegments.Add(_segment);
        tails?.Add(_segment.Length);
    }

    /// <summary>
    /// The next entry starts a run: the caller appends a push's many entries of this stream, in time order, one after the
    /// other (pushes of a few entries are better left to join the run before them).
    /// </summary>
    public void StartRun() => _runRequested = true;

    // The entry about to be appended starts a run, which ends the run before it at the last entry appended.
    private void StartTailRun()
    {
        if (_runCount == MaxRuns)
        {
            _runsOverflowed = true;
            return;
        }

        if (_runCount > 0)
        {
            _runs[_runCount - 1].Last = _tailLast;
        }

        if (_runCount == _runs.Length)
        {
            PooledArray.Grow(ref _runs, _runCount);
        }

        _runs[_runCount++] = new TailRun(((long)(_tailSegments.Count - 1) << 32) | (uint)_segmentUsed, _tailCount);
    }

    /// <summary>Compresses whatever is left uncompressed; the block then holds parts only and takes no more appends.</summary>
    public void Seal(ChunkBuilderPool builders)
    {
        if (_tailCount > 0)
        {
            CompressTail(builders);
        }

        tails?.Add(-_segment.Length);
        if (_segment.Length > 0)
        {
            SegmentPool.Shared.Return(_segment);
        }

        _tailSegments.Clear();
        _tailEnds.Clear();
        _runCount = 0;
        PooledArray.Return(ref _runs);
        _tailStart = 0;
        _segment = [];
        _segmentUsed = 0;
    }

    /// <summary>
    /// Gives a reader what it needs for <c>[from, through)</c>: the overlapping parts, which never change (spilled
    /// ones with their file held open for the reader until it ends the read), and copies of the overlapping tail
    /// entries in one new array, since tail segments are reused once compressed. Tail entries whose line fails
    /// <paramref name="filter"/> are left out, so a selective query copies little.
    /// </summary>
    public void Snapshot(long from, long through, Storage.ContentIndex.LiteralPrefilter? filter, HeadReadSet parts, List<HeadEntry> tail)
    {
        if (IsEmpty || MaxTimestamp < from || MinTimestamp >= through)
        {
            return;
        }

        foreach (var part in _parts)
        {
            if (part.Summary.MaxTime >= from && part.Summary.MinTime < through)
            {
                parts.Add(part);
            }
        }

        if (filter is not null && !TailMayMatch(filter))
        {
            return;
        }

        // Matching entries are noted first (positions into the segments), then copied into one array of the exact size.
        var first = tail.Count;
        var bytes = 0;
        var sequence = _partEntries;
        for (var cursor = new TailCursor(this); cursor.MoveNext(); sequence++)
        {
            var entry = cursor.Entry(sequence);
            if (entry.Timestamp >= from && entry.Timestamp < through
                && (filter is null || filter.Matches(entry.Segment.AsSpan(entry.Offset, entry.LineLength))))
            {
                bytes += entry.LineLength + entry.MetadataLength;
                tail.Add(entry);
            }
        }

        if (tail.Count == first)
        {
            return;
        }

        var copy = GC.AllocateUninitializedArray<byte>(bytes);
        var used = 0;
        var copies = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tail)[first..];
        foreach (ref var entry in copies)
        {
            var size = entry.LineLength + entry.MetadataLength;
            entry.Segment.AsSpan(entry.Offset, size).CopyTo(copy.AsSpan(used));
            entry = entry with { Segment = copy, Offset = used };
            used += size;
        }
    }

    // A needle search rules out a whole tail with one vectorised search per segment instead of one per entry: a line
    // lies within one segment, so a segment without the filter's literals holds no matching line (the headers and
    // metadata between lines can only let more through, never fewer).
    private bool TailMayMatch(Storage.ContentIndex.LiteralPrefilter filter)
    {
        for (var i = 0; i < _tailSegments.Count; i++)
        {
            var start = i == 0 ? _tailStart : 0;
            var end = TailEnd(i);
            if (end > start && filter.Matches(_tailSegments[i].AsSpan(start, end - start)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The block left the head (stored, or its retain period is over): its parts' spill space is given back.</summary>
    /// <remarks>Under the owning stream's lock, as every reader's snapshot is.</remarks>
    public void Release()
    {
        foreach (var part in _parts)
        {
            part.Release();
        }
    }

    // A builder is rented only here, not for every push and stream: most appends compress nothing.
    private void CompressTail(ChunkBuilderPool builders)
    {
        var builder = builders.Rent();
        try
        {
            CompressTail(builder);
        }
        finally
        {
            builders.Return(builder);
        }
    }

    private void CompressTail(ChunkBuilder builder)
    {
        builder.Reset();

        // A tail is out of time order when concurrent pushes of one stream were appended in another order than
        // their timestamps; one push alone arrives sorted, so a tail fed by a single client never needs this.
        if (_tailUnsorted)
        {
            if (_runsOverflowed || !AppendRuns(builder))
            {
                AppendInTimeOrder(builder);
            }
            else
            {
                TailsOrderedByRuns++;
            }

            _tailUnsorted = false;
        }
        else
        {
            for (var cursor = new TailCursor(this); cursor.MoveNext();)
            {
                Append(builder, cursor.Entry(0));
            }
        }

        var output = _compressed ??= new ArrayBufferWriter<byte>(64 * 1024);
        output.ResetWrittenCount();
        var summary = builder.Finish(output);
        var part = HeadPart.Create(output.WrittenSpan, summary, _tailCount, spill);
        _parts.Add(part);
        _partEntries += _tailCount;
        _tailCount = 0;
        _runCount = 0;
        _runsOverflowed = false;

        // A tail of many runs leaves no large array behind for the rest of the block's life.
        if (_runs.Length > 64)
        {
            PooledArray.Return(ref _runs);
        }

        // Segments before the current one hold compressed entries only; the rest of the current one stays in use.
        foreach (var segment in _tailSegments)
        {
            if (!ReferenceEquals(segment, _segment))
            {
                tails?.Add(-segment.Length);
                SegmentPool.Shared.Return(segment);
            }
        }

        _tailSegments.Clear();
        _tailEnds.Clear();
        if (_segment.Length > 0)
        {
            _tailSegments.Add(_segment);
        }

        _tailStart = _segmentUsed;
        _tailBytes = 0;
    }

    private static void Append(ChunkBuilder builder, in HeadEntry entry) =>
        builder.Append(entry.Timestamp, entry.Segment.AsSpan(entry.Offset, entry.LineLength),
            new StructuredMetadata(entry.Segment.AsSpan(entry.Offset + entry.LineLength, entry.MetadataLength)));

    // Appends the tail ordered by timestamp, then arrival, when its runs do not overlap; false (nothing appended) when
    // they do. Each run is in that order within itself, so runs ordered by their first timestamps (then arrival) and
    // appended one after the other are that order when each run starts after the one before it ends (or at the same
    // time, having arrived later).
    private bool AppendRuns(ChunkBuilder builder)
    {
        var count = _runCount;
        var runs = _runs.AsSpan(0, count);
        runs[^1].Last = _tailLast;
        var firsts = ArrayPool<long>.Shared.Rent(count);
        var positions = ArrayPool<int>.Shared.Rent(count);
        try
        {
            var keys = firsts.AsSpan(0, count);
            var order = positions.AsSpan(0, count);
            for (var i = 0; i < count; i++)
            {
                keys[i] = EntryAt(runs[i].Place, 0).Timestamp;
                order[i] = i;
            }

            SortByTimeThenArrival(keys, order);
            for (var k = 1; k < count; k++)
            {
                var (before, run) = (order[k - 1], order[k]);
                if (keys[k] < runs[before].Last || (keys[k] == runs[before].Last && run < before))
                {
                    return false;
                }
            }

            foreach (var run in order)
            {
                var entries = (run + 1 < count ? runs[run + 1].Index : _tailCount) - runs[run].Index;
                var cursor = new TailCursor(this, runs[run].Place);
                for (var n = 0; n < entries && cursor.MoveNext(); n++)
                {
                    Append(builder, cursor.Entry(0));
                }
            }

            return true;
        }
        finally
        {
            ArrayPool<long>.Shared.Return(firsts);
            ArrayPool<int>.Shared.Return(positions);
        }
    }

    // Appends the tail ordered by timestamp, then arrival. The order is found by sorting timestamps with positions;
    // a position is also the arrival rank, and indexes where the entry is (segment and offset, one long each).
    private void AppendInTimeOrder(ChunkBuilder builder)
    {
        var count = _tailCount;
        var timestamps = ArrayPool<long>.Shared.Rent(count);
        var positions = ArrayPool<int>.Shared.Rent(count);
        var places = ArrayPool<long>.Shared.Rent(count);
        try
        {
            var keys = timestamps.AsSpan(0, count);
            var order = positions.AsSpan(0, count);
            var at = 0;
            for (var cursor = new TailCursor(this); cursor.MoveNext(); at++)
            {
                keys[at] = cursor.Timestamp;
                order[at] = at;
                places[at] = cursor.Place;
            }

            SortByTimeThenArrival(keys, order);
            foreach (var position in order)
            {
                Append(builder, EntryAt(places[position], 0));
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(timestamps);
            ArrayPool<int>.Shared.Return(positions);
            ArrayPool<long>.Shared.Return(places);
        }
    }

    // Sorts timestamps with their arrival ranks (primitives, no comparer), then puts the ranks of equal timestamps back
    // in arrival order, which the unstable sort may have shuffled: a stable sort by time.
    private static void SortByTimeThenArrival(Span<long> keys, Span<int> order)
    {
        keys.Sort(order);
        for (var start = 0; start < keys.Length;)
        {
            var end = start + 1;
            while (end < keys.Length && keys[end] == keys[start])
            {
                end++;
            }

            if (end - start > 1)
            {
                order[start..end].Sort();
            }

            start = end;
        }
    }

    // The tail entry at a place from TailCursor.Place: segment index in the high half, offset in the low half.
    private HeadEntry EntryAt(long place, int sequence) => Read(_tailSegments[(int)(place >> 32)], (int)place, sequence);

    // Where the tail's entries end in tail segment i: sealed segments keep their end, the current one is still filling.
    private int TailEnd(int i) => i < _tailEnds.Count ? _tailEnds[i] : _segmentUsed;

    private static HeadEntry Read(byte[] segment, int offset, int sequence)
    {
        var header = segment.AsSpan(offset, EntryHeader);
        return new HeadEntry(BinaryPrimitives.ReadInt64LittleEndian(header), segment, offset + EntryHeader,
            BinaryPrimitives.ReadInt32LittleEndian(header[8..]), BinaryPrimitives.ReadInt32LittleEndian(header[12..]), sequence);
    }

    // A run of tail entries: where it starts (its first entry's TailCursor.Place and number in the tail) and its last
    // timestamp (set when the next run starts, or at compressing).
    private record struct TailRun(long Place, int Index)
    {
        public long Last;
    }

    /// <summary>Walks the tail's entries in arrival order, from its start or from an entry's place.</summary>
    private struct TailCursor(HeadBlock block)
    {
        private int _segment;
        private int _offset = -1;
        private int _next = block._tailStart;

        public TailCursor(HeadBlock block, long place)
            : this(block)
        {
            _segment = (int)(place >> 32);
            _next = (int)place;
        }

        public readonly long Timestamp => BinaryPrimitives.ReadInt64LittleEndian(block._tailSegments[_segment].AsSpan(_offset));

        public readonly long Place => ((long)_segment << 32) | (uint)_offset;

        public readonly HeadEntry Entry(int sequence) => Read(block._tailSegments[_segment], _offset, sequence);

        public bool MoveNext()
        {
            var segments = block._tailSegments;
            while (_segment < segments.Count)
            {
                var end = block.TailEnd(_segment);
                if (_next < end)
                {
                    _offset = _next;
                    var header = segments[_segment].AsSpan(_offset + 8, 8);
                    _next = _offset + EntryHeader + BinaryPrimitives.ReadInt32LittleEndian(header) + BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
                    return true;
                }

                _segment++;
                _next = 0;
            }

            return false;
        }
    }
}
