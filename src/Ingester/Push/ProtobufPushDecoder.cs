using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace LokiSharp.Ingester.Push;

/// <summary>
/// Decodes <c>logproto.PushRequest</c> straight from its wire bytes into a <see cref="PushBatch"/>, without
/// generated message classes, so a line is copied once and never becomes a string. Field numbers follow
/// Loki's <c>pkg/push/push.proto</c>: PushRequest.streams=1; StreamAdapter labels=1, entries=2, hash=3;
/// EntryAdapter timestamp=1, line=2, structuredMetadata=3, parsed=4; LabelPairAdapter name=1, value=2;
/// google.protobuf.Timestamp seconds=1, nanos=2.
/// </summary>
public static class ProtobufPushDecoder
{
    private const int Varint = 0;
    private const int Fixed64 = 1;
    private const int LengthDelimited = 2;
    private const int Fixed32 = 5;

    // Clients send the same streams push after push: label texts are kept by content, one per slot of a content hash,
    // so a stream's text is decoded once instead of on every push (a collision or a non-ASCII text just decodes again).
    private static readonly string?[] RecentLabels = new string?[4096];

    /// <summary>Decodes an uncompressed PushRequest message into <paramref name="batch"/>.</summary>
    /// <exception cref="PushRequestException">The bytes are not a valid PushRequest (400).</exception>
    public static void Decode(ReadOnlySpan<byte> message, PushBatch batch)
    {
        var reader = new WireReader(message);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 1 && wire == LengthDelimited)
            {
                DecodeStream(reader.ReadBytes(), batch);
            }
            else
            {
                reader.Skip(wire);
            }
        }
    }

    private static void DecodeStream(ReadOnlySpan<byte> stream, PushBatch batch)
    {
        // Labels normally come first and once: then one pass reads them and the entries after them. Else (an entry
        // before them, or labels again, the last of which counts) the stream is read twice, its labels found first.
        var first = new WireReader(stream);
        if (!first.End && first.ReadTag() is (1, LengthDelimited))
        {
            batch.BeginStream(LabelsText(first.ReadBytes()));
            while (!first.End)
            {
                var (field, wire) = first.ReadTag();
                if (field == 2 && wire == LengthDelimited)
                {
                    DecodeEntry(first.ReadBytes(), batch);
                }
                else if (field == 1 && wire == LengthDelimited)
                {
                    batch.DropLastStream();
                    DecodeStreamInTwoPasses(stream, batch);
                    return;
                }
                else
                {
                    first.Skip(wire);
                }
            }

            return;
        }

        DecodeStreamInTwoPasses(stream, batch);
    }

    private static void DecodeStreamInTwoPasses(ReadOnlySpan<byte> stream, PushBatch batch)
    {
        var labels = "";
        var scan = new WireReader(stream);
        while (!scan.End)
        {
            var (field, wire) = scan.ReadTag();
            if (field == 1 && wire == LengthDelimited)
            {
                labels = LabelsText(scan.ReadBytes());
            }
            else
            {
                scan.Skip(wire);
            }
        }

        batch.BeginStream(labels);
        var reader = new WireReader(stream);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 2 && wire == LengthDelimited)
            {
                DecodeEntry(reader.ReadBytes(), batch);
            }
            else
            {
                reader.Skip(wire);
            }
        }
    }

    private static void DecodeEntry(ReadOnlySpan<byte> entry, PushBatch batch)
    {
        long seconds = 0;
        long nanos = 0;
        ReadOnlySpan<byte> line = default;
        var metadataCount = 0;
        var reader = new WireReader(entry);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 1 when wire == LengthDelimited:
                    // Read within the entry, so the 8-byte varint load reaches past the timestamp's last byte.
                    var timestamp = reader.ReadMessage();
                    while (!timestamp.End)
                    {
                        var (tsField, tsWire) = timestamp.ReadTag();
                        if (tsField == 1 && tsWire == Varint)
                        {
                            seconds = (long)timestamp.ReadVarint();
                        }
                        else if (tsField == 2 && tsWire == Varint)
                        {
                            nanos = (int)timestamp.ReadVarint();
                        }
                        else
                        {
                            timestamp.Skip(tsWire);
                        }
                    }

                    break;
                case 2 when wire == LengthDelimited:
                    line = reader.ReadBytes();
                    break;
                case 3 when wire == LengthDelimited:
                    metadataCount++;
                    reader.ReadBytes();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        batch.AddEntry(UnixNanos(seconds, nanos), line);
        if (metadataCount == 0)
        {
            return;
        }

        reader = new WireReader(entry);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 3 && wire == LengthDelimited)
            {
                var pair = new WireReader(reader.ReadBytes());
                var name = "";
                var value = "";
                while (!pair.End)
                {
                    var (pairField, pairWire) = pair.ReadTag();
                    if (pairField == 1 && pairWire == LengthDelimited)
                    {
                        name = Utf8(pair.ReadBytes());
                    }
                    else if (pairField == 2 && pairWire == LengthDelimited)
                    {
                        value = Utf8(pair.ReadBytes());
                    }
                    else
                    {
                        pair.Skip(pairWire);
                    }
                }

                batch.AddMetadata(name, value);
            }
            else
            {
                reader.Skip(wire);
            }
        }
    }

    // A time int64 nanoseconds cannot hold (before 1678 or after 2262) is pinned to the end of the range it passed,
    // where validation refuses the entry alone as too old or too new, as Loki does, instead of failing the push.
    private static long UnixNanos(long seconds, long nanos)
    {
        const long maxSeconds = (long.MaxValue - int.MaxValue) / 1_000_000_000;
        if (seconds is <= maxSeconds and >= -maxSeconds)
        {
            return (seconds * 1_000_000_000) + nanos;
        }

        return seconds > 0 ? long.MaxValue : long.MinValue;
    }

    private static string Utf8(ReadOnlySpan<byte> bytes) => bytes.IsEmpty ? "" : Encoding.UTF8.GetString(bytes);

    private static string LabelsText(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return "";
        }

        ref var slot = ref RecentLabels[(int)(Storage.Hashing.Crc32C.Compute(utf8) & (RecentLabels.Length - 1))];
        var recent = Volatile.Read(ref slot);
        if (recent is not null && recent.Length == utf8.Length && Ascii.Equals(utf8, recent))
        {
            return recent;
        }

        var text = Encoding.UTF8.GetString(utf8);
        Volatile.Write(ref slot, text);
        return text;
    }

    // Reads _buffer up to _end; the bytes after _end (the rest of an enclosing message) are only ever loaded to find
    // where a varint ends, never taken as part of one.
    private ref struct WireReader
    {
        private readonly ReadOnlySpan<byte> _buffer;
        private readonly int _end;
        private int _position;

        public WireReader(ReadOnlySpan<byte> buffer)
        {
            _buffer = buffer;
            _end = buffer.Length;
        }

        private WireReader(ReadOnlySpan<byte> buffer, int start, int end)
        {
            _buffer = buffer;
            _position = start;
            _end = end;
        }

        public readonly bool End => _position >= _end;

        /// <summary>A reader of the length-delimited field's bytes that may look past them (see the type's remarks).</summary>
        public WireReader ReadMessage()
        {
            var length = ReadVarint();
            if (length > (ulong)(_end - _position))
            {
                throw Invalid("unexpected end of message");
            }

            var start = _position;
            _position += (int)length;
            return new WireReader(_buffer, start, _position);
        }

        public (int Field, int Wire) ReadTag()
        {
            var tag = ReadVarint();
            var field = (int)(tag >> 3);
            if (field == 0)
            {
                throw Invalid("illegal tag 0");
            }

            return (field, (int)(tag & 7));
        }

        // Tags, lengths of short lines and small numbers are single bytes: that case stays inline at the caller.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public ulong ReadVarint()
        {
            if (_position < _end && _buffer[_position] < 0x80)
            {
                return _buffer[_position++];
            }

            return ReadLongVarint();
        }

        private ulong ReadLongVarint()
        {
            // Lengths of entries and lines under 16 KiB take two bytes (the first has its continuation bit, or this
            // would not be called): read as such, without the 8-byte gathering below.
            if (_position + 1 < _end && _buffer[_position + 1] < 0x80)
            {
                var value = (_buffer[_position] & 0x7FUL) | ((ulong)_buffer[_position + 1] << 7);
                _position += 2;
                return value;
            }

            // With 8 bytes at hand, one load finds the varint's last byte (the first without the continuation bit) and
            // gathers the 7-bit groups of the bytes up to it: timestamps' seconds and nanoseconds take 5 bytes each.
            if (_buffer.Length - _position >= sizeof(ulong))
            {
                var word = BinaryPrimitives.ReadUInt64LittleEndian(_buffer[_position..]);
                var ends = ~word & 0x8080808080808080UL;
                var bytes = (BitOperations.TrailingZeroCount(ends) >> 3) + 1;
                if (ends != 0 && bytes <= _end - _position)
                {
                    _position += bytes;
                    var x = (bytes == sizeof(ulong) ? word : word & ((1UL << (bytes * 8)) - 1)) & 0x7F7F7F7F7F7F7F7FUL;

                    // Adjacent groups joined pairwise: 7-bit groups into 14 bits per 16, then 28 per 32, then 56.
                    x = ((x & 0x7F007F007F007F00UL) >> 1) | (x & 0x007F007F007F007FUL);
                    x = ((x & 0x3FFF00003FFF0000UL) >> 2) | (x & 0x00003FFF00003FFFUL);
                    return ((x & 0x0FFFFFFF00000000UL) >> 4) | (x & 0x000000000FFFFFFFUL);
                }
            }

            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_position >= _end)
                {
                    throw Invalid("unexpected end of message");
                }

                var b = _buffer[_position++];
                result |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return result;
                }
            }

            throw Invalid("integer overflow");
        }

        public ReadOnlySpan<byte> ReadBytes()
        {
            var length = ReadVarint();
            if (length > (ulong)(_end - _position))
            {
                throw Invalid("unexpected end of message");
            }

            var bytes = _buffer.Slice(_position, (int)length);
            _position += (int)length;
            return bytes;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case Varint:
                    ReadVarint();
                    break;
                case Fixed64:
                    Advance(8);
                    break;
                case LengthDelimited:
                    ReadBytes();
                    break;
                case Fixed32:
                    Advance(4);
                    break;
                default:
                    throw Invalid($"illegal wireType {wire}");
            }
        }

        private void Advance(int count)
        {
            if (_end - _position < count)
            {
                throw Invalid("unexpected end of message");
            }

            _position += count;
        }

        private static PushRequestException Invalid(string reason) => new(400, "proto: " + reason);
    }
}
