using System.Buffers;
using System.Text;
using LokiSharp.Ingester.Distribution;
using LokiSharp.Ingester.Push;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;

namespace LokiSharp.Ingester.Wal;

/// <summary>
/// The WAL's record format. An entries record carries the accepted entries of one push per stream; a flushed
/// record says which entries records of a stream are now in chunks, so replay after a crash does not store
/// them twice. Integers are varints, strings length-prefixed UTF-8, metadata in the chunk format's encoding.
/// Entries are written in the compact format (kind 3: timestamps as deltas within a stream, repeated metadata as
/// references to a table at the head of the record); the first format (kind 1) is still read, so a WAL written
/// before an upgrade replays.
/// </summary>
public static class WalRecord
{
    /// <summary>Kind byte of an entries record of the first format: absolute timestamps, metadata inline.</summary>
    public const byte EntriesKind = 1;

    /// <summary>Kind byte of a flushed record.</summary>
    public const byte FlushedKind = 2;

    /// <summary>Kind byte of a compact entries record, the one written now.</summary>
    public const byte CompactEntriesKind = 3;

    /// <summary>Whether <paramref name="kind"/> is an entries record of either format.</summary>
    public static bool IsEntries(byte kind) => kind is EntriesKind or CompactEntriesKind;

    /// <summary>
    /// Starts a compact entries record: kind, record id, tenant, the metadata table (encoded structured metadata that
    /// entries refer to by position) and the stream count.
    /// </summary>
    public static void BeginEntries(IBufferWriter<byte> output, long recordId, string tenant, IReadOnlyList<byte[]> metadataTable, int streams)
    {
        output.GetSpan(1)[0] = CompactEntriesKind;
        output.Advance(1);
        Varint.Write(output, (ulong)recordId);
        WriteString(output, tenant);
        Varint.Write(output, (ulong)metadataTable.Count);
        foreach (var encoded in metadataTable)
        {
            output.Write(encoded);
        }

        Varint.Write(output, (ulong)streams);
    }

    /// <summary>
    /// Starts a stream inside an entries record, its labels given as <see cref="EncodeLabels"/> wrote them (once per head
    /// stream, which goes into every record holding it); its first entry's timestamp is a delta from zero.
    /// </summary>
    public static void BeginStream(IBufferWriter<byte> output, ReadOnlySpan<byte> encodedLabels, int entries, out long previousTimestamp)
    {
        output.Write(encodedLabels);
        Varint.Write(output, (ulong)entries);
        previousTimestamp = 0;
    }

    /// <summary>
    /// Writes a stream of a push: its labels (as <see cref="BeginStream"/>), then its validated entries, their lines read from
    /// <paramref name="batch"/>. An entry whose metadata is one of the validator's shared arrays refers to the record's table,
    /// at <paramref name="sharedRank"/>[its shared number]; the others carry theirs inline.
    /// </summary>
    public static void WriteStream(IBufferWriter<byte> output, ReadOnlySpan<byte> encodedLabels, List<ValidatedEntry> entries, PushBatch batch,
        ReadOnlySpan<int> sharedRank)
    {
        BeginStream(output, encodedLabels, entries.Count, out var previous);
        foreach (var entry in entries)
        {
            var line = batch.Bytes(entry.LineStart, entry.LineLength);
            if (entry.Shared >= 0)
            {
                WriteEntry(output, ref previous, entry.TimestampNs, line, sharedRank[entry.Shared]);
            }
            else
            {
                WriteEntry(output, ref previous, entry.TimestampNs, line, entry.Metadata);
            }
        }
    }

    /// <summary>Writes one entry of the current stream whose metadata is entry <paramref name="metadataIndex"/> of the record's table.</summary>
    public static void WriteEntry(IBufferWriter<byte> output, ref long previousTimestamp, long timestamp, ReadOnlySpan<byte> line, int metadataIndex) =>
        WriteEntryWith(output, ref previousTimestamp, timestamp, line, (ulong)metadataIndex + 1);

    /// <summary>Writes one entry of the current stream with its metadata inline.</summary>
    public static void WriteEntry(IBufferWriter<byte> output, ref long previousTimestamp, long timestamp, ReadOnlySpan<byte> line,
        ReadOnlySpan<LabelPair> metadata)
    {
        WriteEntryWith(output, ref previousTimestamp, timestamp, line, tableReference: 0); // no table entry: the metadata follows
        StructuredMetadata.Encode(output, metadata);
    }

    // Timestamps within a push mostly ascend but may step back: zigzag deltas are small either way. One span for the
    // whole entry: the delta, the line's length, the line and the table reference (0: metadata inline).
    private static void WriteEntryWith(IBufferWriter<byte> output, ref long previousTimestamp, long timestamp, ReadOnlySpan<byte> line, ulong tableReference)
    {
        var span = output.GetSpan((3 * Varint.MaxLength) + line.Length);
        var written = Varint.Write(span, Varint.ZigZag(unchecked(timestamp - previousTimestamp)));
        written += Varint.Write(span[written..], (ulong)line.Length);
        line.CopyTo(span[written..]);
        written += line.Length;
        written += Varint.Write(span[written..], tableReference);
        output.Advance(written);
        previousTimestamp = timestamp;
    }

    /// <summary>Writes a flushed record: these record ids of the stream are stored in chunks.</summary>
    public static void WriteFlushed(IBufferWriter<byte> output, string tenant, string labels, IReadOnlyList<long> recordIds)
    {
        output.GetSpan(1)[0] = FlushedKind;
        output.Advance(1);
        WriteString(output, tenant);
        WriteString(output, labels);
        Varint.Write(output, (ulong)recordIds.Count);
        foreach (var id in recordIds)
        {
            Varint.Write(output, (ulong)id);
        }
    }

    /// <summary>A cursor over one record's bytes.</summary>
    public ref struct Reader(ReadOnlySpan<byte> record)
    {
        private readonly ReadOnlySpan<byte> _record = record;
        private int _position;
        private byte _kind;
        private long _previousTimestamp;

        // The compact format's metadata table: where each entry's encoding lies in the record.
        private (int Start, int Length)[] _metadataTable = [];

        /// <summary>The record kind.</summary>
        public byte ReadKind() => _kind = _position < _record.Length ? _record[_position++] : throw Corrupt();

        public long ReadVarint() => Varint.TryRead(_record, ref _position, out var value) ? (long)value : throw Corrupt();

        public string ReadString() => Encoding.UTF8.GetString(ReadBytes());

        public ReadOnlySpan<byte> ReadBytes()
        {
            var length = ReadVarint();
            if (length < 0 || length > _record.Length - _position)
            {
                throw Corrupt();
            }

            var bytes = _record.Slice(_position, (int)length);
            _position += (int)length;
            return bytes;
        }

        /// <summary>Reads the start of an entries record of either format, after <see cref="ReadKind"/>.</summary>
        public void ReadEntriesHeader(out long recordId, out string tenant, out long streams)
        {
            recordId = ReadVarint();
            tenant = ReadString();
            if (_kind == CompactEntriesKind)
            {
                var count = ReadVarint();
                if (count < 0 || count > _record.Length - _position)
                {
                    throw Corrupt();
                }

                _metadataTable = new (int, int)[count];
                for (var i = 0; i < _metadataTable.Length; i++)
                {
                    var start = _position;
                    ReadMetadata();
                    _metadataTable[i] = (start, _position - start);
                }
            }

            streams = ReadVarint();
        }

        /// <summary>Reads the start of a stream of an entries record: its labels and entry count.</summary>
        public void ReadStreamHeader(out string labels, out long entries)
        {
            labels = ReadString();
            entries = ReadVarint();
            _previousTimestamp = 0;
        }

        /// <summary>Reads one entry of the current stream; its metadata in the encoding of <see cref="StructuredMetadata"/>.</summary>
        public void ReadEntry(out long timestamp, out ReadOnlySpan<byte> line, out ReadOnlySpan<byte> metadata)
        {
            if (_kind != CompactEntriesKind)
            {
                timestamp = ReadVarint();
                line = ReadBytes();
                metadata = ReadMetadata();
                return;
            }

            timestamp = _previousTimestamp = unchecked(_previousTimestamp + Varint.UnZigZag((ulong)ReadVarint()));
            line = ReadBytes();
            var reference = ReadVarint();
            if (reference == 0)
            {
                metadata = ReadMetadata();
            }
            else if (reference <= _metadataTable.Length)
            {
                var (start, length) = _metadataTable[reference - 1];
                metadata = _record.Slice(start, length);
            }
            else
            {
                throw Corrupt();
            }
        }

        /// <summary>Reads encoded structured metadata and returns its bytes (for <see cref="StructuredMetadata"/>).</summary>
        private ReadOnlySpan<byte> ReadMetadata()
        {
            var start = _position;
            var count = ReadVarint();
            for (var i = 0; i < count; i++)
            {
                ReadBytes();
                ReadBytes();
            }

            return _record[start.._position];
        }

        private static InvalidDataException Corrupt() => new("malformed WAL record");
    }

    /// <summary>A stream's label text as an entries record holds it (length-prefixed UTF-8), for <see cref="BeginStream"/>.</summary>
    public static byte[] EncodeLabels(string labels)
    {
        var writer = new ArrayBufferWriter<byte>(labels.Length + Varint.MaxLength);
        WriteString(writer, labels);
        return writer.WrittenSpan.ToArray();
    }

    private static void WriteString(IBufferWriter<byte> output, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        Varint.Write(output, (ulong)length);
        Encoding.UTF8.GetBytes(value, output.GetSpan(length));
        output.Advance(length);
    }
}
