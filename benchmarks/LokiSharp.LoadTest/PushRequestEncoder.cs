using Google.Protobuf;

namespace LokiSharp.LoadTest;

/// <summary>
/// Encodes <c>logproto.PushRequest</c> bodies as Promtail sends them: protobuf (field numbers of Loki's
/// push.proto) compressed with snappy's block format.
/// </summary>
public static class PushRequestEncoder
{
    /// <summary>One stream of a batch: its label text and entries (Unix ns, line).</summary>
    public sealed record Stream(string Labels, IReadOnlyList<(long TimestampNs, byte[] Line)> Entries);

    /// <summary>The snappy-compressed protobuf body of a push of <paramref name="streams"/>.</summary>
    public static byte[] Encode(IEnumerable<Stream> streams)
    {
        using var message = new MemoryStream();
        var output = new CodedOutputStream(message);
        foreach (var stream in streams)
        {
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(StreamAdapter(stream));
        }

        output.Flush();
        return Snappier.Snappy.CompressToArray(message.ToArray());
    }

    private static ByteString StreamAdapter(Stream stream)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteString(stream.Labels);
        foreach (var (timestamp, line) in stream.Entries)
        {
            output.WriteTag(2, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(EntryAdapter(timestamp, line));
        }

        output.Flush();
        return ByteString.CopyFrom(buffer.ToArray());
    }

    private static ByteString EntryAdapter(long timestampNs, byte[] line)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteLength(Timestamp(timestampNs, out var seconds, out var nanos));
        output.WriteTag(1, WireFormat.WireType.Varint);
        output.WriteInt64(seconds);
        output.WriteTag(2, WireFormat.WireType.Varint);
        output.WriteInt32(nanos);
        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(line));
        output.Flush();
        return ByteString.CopyFrom(buffer.ToArray());
    }

    // Size of google.protobuf.Timestamp { seconds = 1, nanos = 2 }.
    private static int Timestamp(long timestampNs, out long seconds, out int nanos)
    {
        seconds = timestampNs / 1_000_000_000;
        nanos = (int)(timestampNs % 1_000_000_000);
        return 1 + CodedOutputStream.ComputeInt64Size(seconds) + 1 + CodedOutputStream.ComputeInt32Size(nanos);
    }
}
