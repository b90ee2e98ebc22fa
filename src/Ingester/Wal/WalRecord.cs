using System.Buffers;
using System.Text;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;

namespace LokiSharp.Ingester.Wal;

/// <summary>
/// The WAL's record format. An entries record carries the accepted entries of one push per stream; a flushed
/// record says which entries records of a stream are now in chunks, so replay after a crash does not store
/// them twice. Integers are varints, strings length-prefixed UTF-8, metadata in the chunk format's encoding.
/// </summary>
public static class WalRecord
{
    /// <summary>Kind byte of an entries record.</summary>
    public const byte EntriesKind = 1;

    /// <summary>Kind byte of a flushed record.</summary>
    public const byte FlushedKind = 2;

    /// <summary>Starts an entries record: kind, record id, tenant and stream count.</summary>
    public static void BeginEntries(IBufferWriter<byte> output, long recordId, string tenant, int streams)
    {
        output.GetSpan(1)[0] = EntriesKind;
        output.Advance(1);
        Varint.Write(output, (ulong)recordId);
        WriteString(output, tenant);
        Varint.Write(output, (ulong)streams);
    }

    /// <summary>Starts a stream inside an entries record.</summary>
    public static void BeginStream(IBufferWriter<byte> output, string labels, int entries)
    {
        WriteString(output, labels);
        Varint.Write(output, (ulong)entries);
    }

    /// <summary>Writes one entry of the current stream.</summary>
    public static void WriteEntry(IBufferWriter<byte> output, long timestamp, ReadOnlySpan<byte> line, ReadOnlySpan<LabelPair> metadata)
    {
        Varint.Write(output, (ulong)timestamp);
        Varint.Write(output, (ulong)line.Length);
        output.Write(line);
        StructuredMetadata.Encode(output, metadata);
    }

    /// <summary>Writes one entry of the current stream whose metadata is already encoded (<see cref="StructuredMetadata"/>).</summary>
    public static void WriteEntry(IBufferWriter<byte> output, long timestamp, ReadOnlySpan<byte> line, ReadOnlySpan<byte> encodedMetadata)
    {
        // One span for the whole entry: two varints, the line and the metadata.
        var span = output.GetSpan((2 * Varint.MaxLength) + line.Length + encodedMetadata.Length);
        var written = Varint.Write(span, (ulong)timestamp);
        written += Varint.Write(span[written..], (ulong)line.Length);
        line.CopyTo(span[written..]);
        written += line.Length;
        encodedMetadata.CopyTo(span[written..]);
        output.Advance(written + encodedMetadata.Length);
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

        /// <summary>The record kind.</summary>
        public byte ReadKind() => _position < _record.Length ? _record[_position++] : throw Corrupt();

        public long ReadVarint() => Varint.TryRead(_record, ref _position, out var value) ? (long)value : throw Corrupt();

        public string ReadString() => Encoding.UTF8.GetString(ReadBytes());

        public ReadOnlySpan<byte> ReadBytes()
        {
            var length = (int)ReadVarint();
            if (length < 0 || length > _record.Length - _position)
            {
                throw Corrupt();
            }

            var bytes = _record.Slice(_position, length);
            _position += length;
            return bytes;
        }

        /// <summary>Reads encoded structured metadata and returns its bytes (for <see cref="StructuredMetadata"/>).</summary>
        public ReadOnlySpan<byte> ReadMetadata()
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

    private static void WriteString(IBufferWriter<byte> output, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        Varint.Write(output, (ulong)length);
        Encoding.UTF8.GetBytes(value, output.GetSpan(length));
        output.Advance(length);
    }
}
