using System.Buffers;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;

namespace LokiSharp.Ingester.Head;

/// <summary>Where one head entry's bytes are: a segment of its block and the line and metadata lengths there.</summary>
internal readonly record struct HeadEntry(long Timestamp, byte[] Segment, int Offset, int LineLength, int MetadataLength, long Sequence);

/// <summary>
/// Entries of one stream not yet in a stored chunk. Bytes go into fixed 64 KiB segments that never move, so a
/// reader's snapshot stays valid while appends continue; segments are ordinary arrays the GC reclaims once no
/// snapshot holds them. Not thread-safe: the owning stream's lock guards it.
/// </summary>
internal sealed class HeadBlock
{
    private const int SegmentSize = 64 * 1024;

    private readonly List<HeadEntry> _entries = [];
    private readonly SortedSet<long> _recordIds = [];
    private byte[] _segment = [];
    private int _segmentUsed;
    private long _sequence;

    /// <summary>Entries in arrival order (sorted once the block is sealed).</summary>
    public List<HeadEntry> Entries => _entries;

    /// <summary>Ids of the WAL records whose entries for this stream are in this block.</summary>
    public SortedSet<long> RecordIds => _recordIds;

    /// <summary>Line plus metadata bytes held.</summary>
    public long RawBytes { get; private set; }

    public long MinTimestamp { get; private set; } = long.MaxValue;

    public long MaxTimestamp { get; private set; } = long.MinValue;

    /// <summary>Oldest WAL segment holding an entry of this block; the segment must be kept until it is flushed.</summary>
    public long OldestWalSegment { get; private set; } = long.MaxValue;

    /// <summary>Wall-clock ticks of the first append, for <c>max_chunk_age</c>.</summary>
    public long CreatedAt { get; private set; }

    public bool IsEmpty => _entries.Count == 0;

    /// <summary>Appends one entry.</summary>
    public void Append(long timestamp, ReadOnlySpan<byte> line, ReadOnlySpan<LabelPair> metadata, long recordId, long walSegment, long now)
    {
        var writer = _scratch ??= new ArrayBufferWriter<byte>(256);
        writer.ResetWrittenCount();
        StructuredMetadata.Encode(writer, metadata);
        AppendEncoded(timestamp, line, writer.WrittenSpan, recordId, walSegment, now);
    }

    // One scratch buffer per thread for encoding metadata, so appends allocate nothing per entry.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _scratch;

    /// <summary>Appends one entry whose metadata is already in the chunk encoding (WAL replay).</summary>
    public void AppendEncoded(long timestamp, ReadOnlySpan<byte> line, ReadOnlySpan<byte> encodedMetadata, long recordId, long walSegment, long now)
    {
        var size = line.Length + encodedMetadata.Length;
        if (size > _segment.Length - _segmentUsed)
        {
            _segment = new byte[Math.Max(SegmentSize, size)];
            _segmentUsed = 0;
        }

        line.CopyTo(_segment.AsSpan(_segmentUsed));
        encodedMetadata.CopyTo(_segment.AsSpan(_segmentUsed + line.Length));
        _entries.Add(new HeadEntry(timestamp, _segment, _segmentUsed, line.Length, encodedMetadata.Length, _sequence++));
        _segmentUsed += size;
        RawBytes += size;
        if (_entries.Count == 1)
        {
            CreatedAt = now;
        }

        MinTimestamp = Math.Min(MinTimestamp, timestamp);
        MaxTimestamp = Math.Max(MaxTimestamp, timestamp);
        OldestWalSegment = Math.Min(OldestWalSegment, walSegment);
        if (recordId > 0)
        {
            _recordIds.Add(recordId);
        }
    }

    /// <summary>Sorts entries by time, keeping arrival order for equal timestamps, before the block is flushed.</summary>
    public void Seal() => _entries.Sort(static (a, b) => a.Timestamp != b.Timestamp ? a.Timestamp.CompareTo(b.Timestamp) : a.Sequence.CompareTo(b.Sequence));

    /// <summary>Builds the stored chunk of this (sealed) block.</summary>
    public ChunkSummary WriteChunk(ChunkBuilder builder, IBufferWriter<byte> output)
    {
        builder.Reset();
        var metadata = new List<LabelPair>();
        foreach (var entry in _entries)
        {
            var encoded = new StructuredMetadata(entry.Segment.AsSpan(entry.Offset + entry.LineLength, entry.MetadataLength));
            metadata.Clear();
            foreach (var pair in encoded)
            {
                metadata.Add(new LabelPair(System.Text.Encoding.UTF8.GetString(pair.Name), System.Text.Encoding.UTF8.GetString(pair.Value)));
            }

            builder.Append(entry.Timestamp, entry.Segment.AsSpan(entry.Offset, entry.LineLength), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(metadata));
        }

        return builder.Finish(output);
    }
}
