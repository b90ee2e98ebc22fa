using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;

namespace LokiSharp.Storage.Index;

/// <content>
/// Version 3, the bucket's index objects: writer records name the writers whose packs the object refers to, an
/// identity record repeats the object's key, generations carry coverage, and an end record closes the object so
/// a truncated one is detected. See docs/formats/bucket.md.
/// </content>
internal static partial class IndexFile
{
    /// <summary>Identity kind of an index segment (one flush of one writer).</summary>
    public const byte SegmentKind = 1;

    /// <summary>Identity kind of a compacted generation.</summary>
    public const byte GenerationKind = 2;

    /// <summary>Defines writer record <paramref name="id"/> (the number of writer records before it).</summary>
    public static void WriteWriter(PooledBufferWriter output, int id, string name)
    {
        var start = BeginRecord(output);
        output.GetSpan(1)[0] = WriterRecord;
        output.Advance(1);
        Varint.Write(output, (ulong)id);
        WriteString(output, name);
        EndRecord(output, start);
    }

    /// <summary>The object's identity, which must match its key.</summary>
    public static void WriteIdentity(PooledBufferWriter output, byte kind, int writerId, long number, long epoch)
    {
        var start = BeginRecord(output);
        var span = output.GetSpan(2);
        span[0] = IdentityRecord;
        span[1] = kind;
        output.Advance(2);
        Varint.Write(output, (ulong)writerId);
        Varint.Write(output, (ulong)number);
        Varint.Write(output, (ulong)epoch);
        EndRecord(output, start);
    }

    /// <summary>A generation's coverage: every segment of the writer with a sequence up to <paramref name="highestSeq"/>.</summary>
    public static void WriteCoverage(PooledBufferWriter output, int writerId, long highestSeq)
    {
        var start = BeginRecord(output);
        output.GetSpan(1)[0] = CoverageRecord;
        output.Advance(1);
        Varint.Write(output, (ulong)writerId);
        Varint.Write(output, (ulong)highestSeq);
        EndRecord(output, start);
    }

    /// <summary>The end record: the object's length before it, so nothing can be cut off unnoticed.</summary>
    public static void WriteEnd(PooledBufferWriter output)
    {
        var length = output.WrittenCount;
        var start = BeginRecord(output);
        output.GetSpan(1)[0] = EndOfObjectRecord;
        output.Advance(1);
        Varint.Write(output, (ulong)length);
        EndRecord(output, start);
    }

    private static void WritePack(PooledBufferWriter output, int writerId, long packId)
    {
        if (writerId >= 0)
        {
            Varint.Write(output, (ulong)writerId);
        }

        Varint.Write(output, (ulong)packId);
    }

    private static bool ApplyBucketRecord(ReadOnlySpan<byte> payload, ReadState state)
    {
        var bucket = state.Bucket!;
        var p = 1;
        switch (payload[0])
        {
            case WriterRecord:
                {
                    if (!Varint.TryRead(payload, ref p, out var id) || (int)id != state.Writers.Count ||
                        !TryReadString(payload, ref p, out var name) || p != payload.Length || name.Length == 0)
                    {
                        return false;
                    }

                    state.Writers.Add(name);
                    return true;
                }

            case IdentityRecord:
                {
                    if (state.HasIdentity || payload.Length < 2)
                    {
                        return false;
                    }

                    var kind = payload[1];
                    p = 2;
                    if (kind is not (SegmentKind or GenerationKind) || !Varint.TryRead(payload, ref p, out var writer) ||
                        writer >= (ulong)state.Writers.Count || !Varint.TryRead(payload, ref p, out var number) ||
                        number > long.MaxValue || !Varint.TryRead(payload, ref p, out var epoch) || epoch > long.MaxValue ||
                        p != payload.Length)
                    {
                        return false;
                    }

                    state.HasIdentity = true;
                    bucket.Identity = new IndexObjectIdentity(kind, state.Writers[(int)writer], (long)number, (long)epoch);
                    return true;
                }

            case CoverageRecord:
                {
                    if (!state.HasIdentity || bucket.Identity.Kind != GenerationKind ||
                        !Varint.TryRead(payload, ref p, out var writer) || writer >= (ulong)state.Writers.Count ||
                        !Varint.TryRead(payload, ref p, out var seq) || seq > long.MaxValue || p != payload.Length)
                    {
                        return false;
                    }

                    bucket.Coverage[state.Writers[(int)writer]] = (long)seq;
                    return true;
                }

            case EndOfObjectRecord:
                {
                    if (!state.HasIdentity || !Varint.TryRead(payload, ref p, out var length) || p != payload.Length ||
                        length != (ulong)state.Position)
                    {
                        return false;
                    }

                    state.Ended = true;
                    return true;
                }

            default:
                return false;
        }
    }

    /// <summary>
    /// What reading a bucket index object needs and finds: the mapping of (writer, pack id) to the reader's
    /// in-memory pack id, and the object's identity and coverage.
    /// </summary>
    /// <param name="packHandle">Maps a writer's pack to the pack id the in-memory index uses.</param>
    internal sealed class BucketRecords(Func<string, long, long> packHandle)
    {
        public Func<string, long, long> PackHandle { get; } = packHandle;

        /// <summary>The identity record's content (default until read).</summary>
        public IndexObjectIdentity Identity { get; set; }

        /// <summary>A generation's coverage: writer name to the highest sequence included.</summary>
        public Dictionary<string, long> Coverage { get; } = new(StringComparer.Ordinal);
    }

    // Per-read state: series and writers defined so far, callbacks, and where the reader is.
    private sealed class ReadState(Action<LabelSet>? onSeries, Action<LabelSet, ChunkRef> onChunk,
        Action<(long, long)>? onTombstone, Action<LabelSet, ChunkRef, (long, long)>? onReplacement, BucketRecords? bucket)
    {
        public List<LabelSet> Series { get; } = [];

        public List<string> Writers { get; } = [];

        public Action<LabelSet>? OnSeries { get; } = onSeries;

        public Action<LabelSet, ChunkRef> OnChunk { get; } = onChunk;

        public Action<(long, long)>? OnTombstone { get; } = onTombstone;

        public Action<LabelSet, ChunkRef, (long, long)>? OnReplacement { get; } = onReplacement;

        public BucketRecords? Bucket { get; } = bucket;

        public bool HasIdentity { get; set; }

        public bool Ended { get; set; }

        // Byte offset of the record being applied.
        public long Position { get; set; }
    }
}

/// <summary>The identity record of a bucket index object.</summary>
/// <param name="Kind"><see cref="IndexFile.SegmentKind"/> or <see cref="IndexFile.GenerationKind"/>.</param>
/// <param name="Writer">The writer that created the object (<c>compactor</c> for generations).</param>
/// <param name="Number">A segment's sequence or a generation's number.</param>
/// <param name="Epoch">The compactor's epoch (0 for writers' segments).</param>
internal readonly record struct IndexObjectIdentity(byte Kind, string Writer, long Number, long Epoch);
