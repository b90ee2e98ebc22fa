using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Hashing;

namespace LokiSharp.Storage.Index;

/// <summary>
/// Encoding of index files (open-period journals and sealed tables share it): a header naming the period,
/// then checksummed records defining series and adding chunk refs. See docs/formats/chunk.md. Version 3 is the
/// bucket's index objects (segments, generations): pack ids name a writer; see docs/formats/bucket.md.
/// </summary>
internal static partial class IndexFile
{
    public const uint Magic = 0x49534B4C; // "LKSI"
    // Version 2 added tombstone and replacement records; a version-1 reader would take them for a torn tail.
    public const byte Version = 2;
    public const byte MinCompatibleVersion = 2;

    // Bucket index objects; local journals and sealed files stay at version 2.
    public const byte BucketVersion = 3;

    // The newest version this code reads.
    public const byte ReaderVersion = 3;
    public const int HeaderSize = 24;
    public const int RecordHeaderSize = 8;
    public const byte SeriesRecord = 1;
    public const byte ChunkRecord = 2;
    public const byte TombstoneRecord = 3;
    public const byte ReplacementRecord = 4;
    public const byte WriterRecord = 5;
    public const byte IdentityRecord = 6;
    public const byte CoverageRecord = 7;
    public const byte EndOfObjectRecord = 8;

    // A record larger than this is treated as corruption rather than allocated.
    private const int MaxRecordSize = 16 * 1024 * 1024;

    public static void WriteHeader(IBufferWriter<byte> output, long periodStart, long periodLength) =>
        WriteHeader(output, periodStart, periodLength, Version, MinCompatibleVersion);

    /// <summary>The header of a bucket index object (version 3).</summary>
    public static void WriteBucketHeader(IBufferWriter<byte> output, long periodStart, long periodLength) =>
        WriteHeader(output, periodStart, periodLength, BucketVersion, BucketVersion);

    private static void WriteHeader(IBufferWriter<byte> output, long periodStart, long periodLength, byte version,
        byte minCompatible)
    {
        var span = output.GetSpan(HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        span[4] = version;
        span[5] = minCompatible;
        span[6] = 0;
        span[7] = 0;
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], periodStart);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], periodLength);
        output.Advance(HeaderSize);
    }

    public static void WriteSeries(PooledBufferWriter output, int id, LabelSet labels)
    {
        var start = BeginRecord(output);
        output.GetSpan(1)[0] = SeriesRecord;
        output.Advance(1);
        Varint.Write(output, (ulong)id);
        Varint.Write(output, (ulong)labels.Count);
        foreach (var pair in labels.AsSpan())
        {
            WriteString(output, pair.Name);
            WriteString(output, pair.Value);
        }

        EndRecord(output, start);
    }

    public static void WriteChunk(PooledBufferWriter output, int seriesId, in ChunkRef chunk) =>
        WriteChunk(output, seriesId, chunk, -1);

    /// <summary>
    /// A chunk record; <paramref name="writerId"/> ≥ 0 (version 3) names the writer record of the chunk's pack.
    /// </summary>
    public static void WriteChunk(PooledBufferWriter output, int seriesId, in ChunkRef chunk, int writerId)
    {
        var start = BeginRecord(output);
        WriteChunkFields(output, ChunkRecord, seriesId, chunk, writerId);
        EndRecord(output, start);
    }

    // The fields chunk and replacement records share: type, time range, series, location, counts.
    private static void WriteChunkFields(PooledBufferWriter output, byte recordType, int seriesId, in ChunkRef chunk,
        int writerId)
    {
        var span = output.GetSpan(1 + 16);
        span[0] = recordType;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], chunk.From);
        BinaryPrimitives.WriteInt64LittleEndian(span[9..], chunk.Through);
        output.Advance(17);
        Varint.Write(output, (ulong)seriesId);
        WritePack(output, writerId, chunk.PackId);
        Varint.Write(output, (ulong)chunk.Offset);
        Varint.Write(output, (ulong)chunk.Length);
        Varint.Write(output, (ulong)chunk.Entries);
        Varint.Write(output, (ulong)chunk.UncompressedBytes);
    }

    /// <summary>A tombstone: the chunk <paramref name="key"/> is deleted from every table of the tenant.</summary>
    public static void WriteTombstone(PooledBufferWriter output, (long PackId, long Offset) key) =>
        WriteTombstone(output, key, -1);

    /// <summary>A tombstone whose pack belongs to writer record <paramref name="writerId"/> (version 3) when ≥ 0.</summary>
    public static void WriteTombstone(PooledBufferWriter output, (long PackId, long Offset) key, int writerId)
    {
        var start = BeginRecord(output);
        output.GetSpan(1)[0] = TombstoneRecord;
        output.Advance(1);
        WritePack(output, writerId, key.PackId);
        Varint.Write(output, (ulong)key.Offset);
        EndRecord(output, start);
    }

    /// <summary>
    /// A chunk that replaces another: it only counts once the replaced chunk has a tombstone somewhere in the
    /// tenant (the commit point of a rewrite); otherwise loading rolls it back.
    /// </summary>
    public static void WriteReplacement(PooledBufferWriter output, int seriesId, in ChunkRef chunk,
        (long PackId, long Offset) replaced) => WriteReplacement(output, seriesId, chunk, -1, replaced, -1);

    /// <summary>A replacement whose packs belong to the given writer records (version 3) when the ids are ≥ 0.</summary>
    public static void WriteReplacement(PooledBufferWriter output, int seriesId, in ChunkRef chunk, int writerId,
        (long PackId, long Offset) replaced, int replacedWriterId)
    {
        var start = BeginRecord(output);
        WriteChunkFields(output, ReplacementRecord, seriesId, chunk, writerId);
        WritePack(output, replacedWriterId, replaced.PackId);
        Varint.Write(output, (ulong)replaced.Offset);
        EndRecord(output, start);
    }

    /// <summary>
    /// Reads a whole index file. Returns the byte length of the valid prefix; records after the first bad one
    /// (a torn tail from a crash mid-append) are not applied.
    /// </summary>
    /// <exception cref="ChunkCorruptException">The header is missing or foreign.</exception>
    public static long Read(ReadOnlySpan<byte> file, out long periodStart, out long periodLength,
        Action<LabelSet>? onSeries, Action<LabelSet, ChunkRef> onChunk, out string? tailProblem) =>
        Read(file, out periodStart, out periodLength, onSeries, onChunk, null, null, out tailProblem);

    /// <summary>
    /// Reads a whole index file, also reporting tombstones and replacements (chunk, replaced key) in file order.
    /// </summary>
    /// <exception cref="ChunkCorruptException">The header is missing or foreign, or the file is a bucket object.</exception>
    public static long Read(ReadOnlySpan<byte> file, out long periodStart, out long periodLength,
        Action<LabelSet>? onSeries, Action<LabelSet, ChunkRef> onChunk, Action<(long, long)>? onTombstone,
        Action<LabelSet, ChunkRef, (long, long)>? onReplacement, out string? tailProblem) =>
        Read(file, out periodStart, out periodLength, onSeries, onChunk, onTombstone, onReplacement, null, out tailProblem);

    /// <summary>
    /// Reads a whole index file. <paramref name="bucket"/> is required for bucket objects (version 3) and
    /// receives their writer-qualified pack ids, identity and coverage; it must be null for version 1 and 2 files.
    /// </summary>
    /// <exception cref="ChunkCorruptException">The header is missing or foreign, or the version does not match
    /// <paramref name="bucket"/>.</exception>
    public static long Read(ReadOnlySpan<byte> file, out long periodStart, out long periodLength,
        Action<LabelSet>? onSeries, Action<LabelSet, ChunkRef> onChunk, Action<(long, long)>? onTombstone,
        Action<LabelSet, ChunkRef, (long, long)>? onReplacement, BucketRecords? bucket, out string? tailProblem)
    {
        if (file.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(file) != Magic)
        {
            throw new ChunkCorruptException("index file header missing or foreign");
        }

        if (file[5] > ReaderVersion)
        {
            throw new ChunkCorruptException($"index file needs reader version {file[5]}; this reader is {ReaderVersion}");
        }

        var isBucketObject = file[4] >= BucketVersion;
        if (isBucketObject != bucket is not null)
        {
            throw new ChunkCorruptException(isBucketObject
                ? $"index file version {file[4]} is a bucket object; it is not read as a local file"
                : $"index file version {file[4]} is not a bucket object (version {BucketVersion} expected)");
        }

        periodStart = BinaryPrimitives.ReadInt64LittleEndian(file[8..]);
        periodLength = BinaryPrimitives.ReadInt64LittleEndian(file[16..]);
        var state = new ReadState(onSeries, onChunk, onTombstone, onReplacement, bucket);
        var position = HeaderSize;
        state.Position = position;
        tailProblem = null;
        while (position < file.Length)
        {
            if (state.Ended)
            {
                tailProblem = "data after the end record";
                break;
            }

            if (file.Length - position < RecordHeaderSize)
            {
                tailProblem = "truncated record header";
                break;
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(file[position..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(file[(position + 4)..]);
            if (length <= 0 || length > MaxRecordSize || length > file.Length - position - RecordHeaderSize)
            {
                tailProblem = "truncated or oversized record";
                break;
            }

            var payload = file.Slice(position + RecordHeaderSize, length);
            if (Crc32C.Compute(payload) != crc)
            {
                tailProblem = "record checksum mismatch";
                break;
            }

            if (!Apply(payload, state))
            {
                tailProblem = "malformed record";
                break;
            }

            position += RecordHeaderSize + length;
            state.Position = position;
        }

        if (tailProblem is null && isBucketObject && !state.Ended)
        {
            tailProblem = "end record missing (object truncated)";
        }

        return position;
    }

    private static bool Apply(ReadOnlySpan<byte> payload, ReadState state)
    {
        var p = 1;
        var series = state.Series;
        switch (payload[0])
        {
            case SeriesRecord:
                {
                    if (!Varint.TryRead(payload, ref p, out var id) || (int)id != series.Count ||
                        !Varint.TryRead(payload, ref p, out var count) || count > (ulong)payload.Length)
                    {
                        return false;
                    }

                    var pairs = new LabelPair[(int)count];
                    for (var i = 0; i < pairs.Length; i++)
                    {
                        if (!TryReadString(payload, ref p, out var name) || !TryReadString(payload, ref p, out var value))
                        {
                            return false;
                        }

                        pairs[i] = new LabelPair(name, value);
                    }

                    if (p != payload.Length)
                    {
                        return false;
                    }

                    var labels = LabelSet.From(pairs);
                    series.Add(labels);
                    state.OnSeries?.Invoke(labels);
                    return true;
                }

            case ChunkRecord:
            case ReplacementRecord:
                {
                    if (payload.Length < 17)
                    {
                        return false;
                    }

                    var from = BinaryPrimitives.ReadInt64LittleEndian(payload[1..]);
                    var through = BinaryPrimitives.ReadInt64LittleEndian(payload[9..]);
                    p = 17;
                    if (!Varint.TryRead(payload, ref p, out var id) || id >= (ulong)series.Count ||
                        !TryReadPack(payload, ref p, state, out var pack) || !Varint.TryRead(payload, ref p, out var offset) ||
                        !Varint.TryRead(payload, ref p, out var length) || !Varint.TryRead(payload, ref p, out var entries) ||
                        !Varint.TryRead(payload, ref p, out var bytes))
                    {
                        return false;
                    }

                    var chunk = new ChunkRef(pack, (long)offset, (int)length, from, through, (int)entries, (long)bytes);
                    if (payload[0] == ChunkRecord)
                    {
                        if (p != payload.Length)
                        {
                            return false;
                        }

                        state.OnChunk(series[(int)id], chunk);
                        return true;
                    }

                    if (!TryReadPack(payload, ref p, state, out var replacedPack) ||
                        !Varint.TryRead(payload, ref p, out var replacedOffset) || p != payload.Length)
                    {
                        return false;
                    }

                    if (state.OnReplacement is null)
                    {
                        // A reader that does not track rewrites treats the replacement as committed.
                        state.OnChunk(series[(int)id], chunk);
                    }
                    else
                    {
                        state.OnReplacement(series[(int)id], chunk, (replacedPack, (long)replacedOffset));
                    }

                    return true;
                }

            case TombstoneRecord:
                {
                    if (!TryReadPack(payload, ref p, state, out var pack) || !Varint.TryRead(payload, ref p, out var offset) ||
                        p != payload.Length)
                    {
                        return false;
                    }

                    state.OnTombstone?.Invoke((pack, (long)offset));
                    return true;
                }

            default:
                return state.Bucket is not null && ApplyBucketRecord(payload, state);
        }
    }

    // A pack id: a plain varint in local files; in bucket objects a writer record id and the writer's pack id,
    // turned into the reader's in-memory pack id. Pack-bearing records need the identity record before them.
    private static bool TryReadPack(ReadOnlySpan<byte> payload, ref int p, ReadState state, out long pack)
    {
        pack = 0;
        if (state.Bucket is not { } bucket)
        {
            if (!Varint.TryRead(payload, ref p, out var plain))
            {
                return false;
            }

            pack = (long)plain;
            return true;
        }

        if (!state.HasIdentity || !Varint.TryRead(payload, ref p, out var writer) || writer >= (ulong)state.Writers.Count ||
            !Varint.TryRead(payload, ref p, out var packId) || packId > long.MaxValue)
        {
            return false;
        }

        pack = bucket.PackHandle(state.Writers[(int)writer], (long)packId);
        return true;
    }


    private static int BeginRecord(PooledBufferWriter output)
    {
        var start = output.WrittenCount;
        output.GetSpan(RecordHeaderSize);
        output.Advance(RecordHeaderSize);
        return start;
    }

    private static void EndRecord(PooledBufferWriter output, int start)
    {
        var written = output.WrittenSpan;
        var payload = written[(start + RecordHeaderSize)..];
        Span<byte> prefix = stackalloc byte[RecordHeaderSize];
        BinaryPrimitives.WriteInt32LittleEndian(prefix, payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(prefix[4..], Crc32C.Compute(payload));
        output.Patch(start, prefix);
    }

    private static void WriteString(PooledBufferWriter output, string value)
    {
        var n = Encoding.UTF8.GetByteCount(value);
        Varint.Write(output, (ulong)n);
        var span = output.GetSpan(n);
        Encoding.UTF8.GetBytes(value, span);
        output.Advance(n);
    }

    private static bool TryReadString(ReadOnlySpan<byte> payload, ref int p, out string value)
    {
        value = string.Empty;
        if (!Varint.TryRead(payload, ref p, out var length) || length > (ulong)(payload.Length - p))
        {
            return false;
        }

        value = Encoding.UTF8.GetString(payload.Slice(p, (int)length));
        p += (int)length;
        return true;
    }
}
