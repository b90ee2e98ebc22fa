using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Objects;

namespace LokiSharp.Storage.Bucket;

/// <summary>
/// Writes one writer's index segments: the index records of one flush for one table as one immutable object
/// <c>&lt;tenant&gt;/index/&lt;table&gt;/segments/&lt;writer&gt;/&lt;seq&gt;.seg</c>, whose creation commits the flush
/// for that table (its pack is written first). Sequences increase within the process and start above the clock,
/// so a restarted writer does not reuse a key; where the store supports create-only puts a taken key is skipped
/// as well. Thread-safe; callers serialize the segments of one table (see docs/formats/bucket.md).
/// </summary>
internal sealed class SegmentWriter
{
    // A create-only put that keeps finding its key taken means something other than a clock gone back.
    private const int MaxTakenKeys = 1000;

    private readonly IObjectStore _store;
    private readonly Func<long> _clock;
    private readonly Lock _lock = new();
    private long _last;

    /// <summary>Creates the writer of <paramref name="writer"/>'s segments.</summary>
    /// <param name="store">The bucket.</param>
    /// <param name="writer">The writer name (<see cref="WriterName"/>; <c>compactor</c> for the compactor).</param>
    /// <param name="epoch">The compactor's epoch, carried in its segments' identity; 0 for ingesters.</param>
    /// <param name="clock">Current time in ticks (tests); <see cref="DateTime.UtcNow"/> by default.</param>
    public SegmentWriter(IObjectStore store, string writer, long epoch = 0, Func<long>? clock = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        WriterName.Validate(writer, allowReserved: true);
        if (writer == WriterName.Compactor && epoch <= 0)
        {
            throw new ArgumentException("the compactor's segments carry its epoch", nameof(epoch));
        }

        _store = store;
        Writer = writer;
        Epoch = epoch;
        _clock = clock ?? (static () => DateTime.UtcNow.Ticks);
    }

    /// <summary>The writer name in every key this writer creates.</summary>
    public string Writer { get; }

    /// <summary>The compactor epoch in the identity of every segment (0 for ingesters).</summary>
    public long Epoch { get; }

    /// <summary>
    /// The next sequence number: <c>max(previous + 1, now in ticks)</c>, so it increases in the process and, as
    /// long as the clock does not go back, across restarts; it also tells roughly when the object was created.
    /// </summary>
    public long NextSequence()
    {
        lock (_lock)
        {
            _last = Math.Max(_last + 1, _clock());
            return _last;
        }
    }

    /// <summary>Writes a segment listing <paramref name="chunks"/> (in this writer's packs); returns its key.</summary>
    public Task<string> WriteAsync(string tenant, string table, long periodStart, long periodLength,
        IReadOnlyList<(LabelSet Labels, ChunkRef Chunk)> chunks, CancellationToken cancellationToken = default) =>
        WriteAsync(tenant, table, periodStart, periodLength, chunks, [], [], cancellationToken);

    /// <summary>
    /// Writes a segment: chunk refs and replacement chunk refs (in this writer's packs: their
    /// <see cref="ChunkRef.PackId"/> is this writer's pack id), and tombstones of any writer's chunks. Returns its
    /// key once the object exists; if it throws, the segment may or may not exist, and retrying writes another.
    /// </summary>
    public async Task<string> WriteAsync(string tenant, string table, long periodStart, long periodLength,
        IReadOnlyList<(LabelSet Labels, ChunkRef Chunk)> chunks,
        IReadOnlyList<(LabelSet Labels, ChunkRef Chunk, BucketChunkKey Replaced)> replacements,
        IReadOnlyList<BucketChunkKey> tombstones, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        ArgumentException.ThrowIfNullOrEmpty(table);
        for (var attempt = 0; ; attempt++)
        {
            var seq = NextSequence();
            var key = BucketKeys.Segment(tenant, table, Writer, seq);
            var content = Encode(seq, periodStart, periodLength, chunks, replacements, tombstones);
            if (!_store.SupportsCreateOnly)
            {
                await _store.PutAsync(key, content, cancellationToken).ConfigureAwait(false);
                return key;
            }

            if (await _store.TryCreateAsync(key, content, cancellationToken).ConfigureAwait(false))
            {
                return key;
            }

            if (attempt >= MaxTakenKeys)
            {
                throw new IOException($"segment keys of writer {Writer} keep being taken (last {key}): is another process using the same name?");
            }
        }
    }

    /// <summary>Encodes a segment of this writer with sequence <paramref name="seq"/> (version 3 index object).</summary>
    internal byte[] Encode(long seq, long periodStart, long periodLength,
        IReadOnlyList<(LabelSet Labels, ChunkRef Chunk)> chunks,
        IReadOnlyList<(LabelSet Labels, ChunkRef Chunk, BucketChunkKey Replaced)> replacements,
        IReadOnlyList<BucketChunkKey> tombstones)
    {
        // Writer records first: this writer is 0, then every other writer a replaced or deleted chunk belongs to.
        var writers = new Dictionary<string, int>(StringComparer.Ordinal) { [Writer] = 0 };
        List<string> writerOrder = [Writer];
        void Name(string writer)
        {
            if (writers.TryAdd(writer, writers.Count))
            {
                writerOrder.Add(writer);
            }
        }

        foreach (var (_, _, replaced) in replacements)
        {
            Name(replaced.Writer);
        }

        foreach (var key in tombstones)
        {
            Name(key.Writer);
        }

        using var buffer = new PooledBufferWriter(4096);
        IndexFile.WriteBucketHeader(buffer, periodStart, periodLength);
        for (var id = 0; id < writerOrder.Count; id++)
        {
            WriterName.Validate(writerOrder[id], allowReserved: true);
            IndexFile.WriteWriter(buffer, id, writerOrder[id]);
        }

        IndexFile.WriteIdentity(buffer, IndexFile.SegmentKind, 0, seq, Epoch);
        var seriesIds = new Dictionary<LabelSet, int>();
        int IdOf(LabelSet labels)
        {
            if (!seriesIds.TryGetValue(labels, out var id))
            {
                id = seriesIds.Count;
                seriesIds.Add(labels, id);
                IndexFile.WriteSeries(buffer, id, labels);
            }

            return id;
        }

        foreach (var (labels, chunk) in chunks)
        {
            IndexFile.WriteChunk(buffer, IdOf(labels), chunk, 0);
        }

        foreach (var (labels, chunk, replaced) in replacements)
        {
            IndexFile.WriteReplacement(buffer, IdOf(labels), chunk, 0, (replaced.PackId, replaced.Offset), writers[replaced.Writer]);
        }

        foreach (var key in tombstones)
        {
            IndexFile.WriteTombstone(buffer, (key.PackId, key.Offset), writers[key.Writer]);
        }

        IndexFile.WriteEnd(buffer);
        return buffer.WrittenSpan.ToArray();
    }
}
