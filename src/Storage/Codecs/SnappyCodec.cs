using System.Buffers;
using Snappier;

namespace LokiSharp.Storage.Codecs;

/// <summary>Snappy block format through Snappier.</summary>
internal sealed class SnappyCodec : BlockCodec
{
    public override ChunkEncoding Encoding => ChunkEncoding.Snappy;

    public override int Compress(ReadOnlySpan<byte> raw, IBufferWriter<byte> output)
    {
        var span = output.GetSpan(Snappy.GetMaxCompressedLength(raw.Length));
        var written = Snappy.Compress(raw, span);
        output.Advance(written);
        return written;
    }

    public override void Decompress(ReadOnlySpan<byte> compressed, Span<byte> raw)
    {
        int length;
        try
        {
            length = Snappy.GetUncompressedLength(compressed);
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            throw new InvalidDataException("invalid snappy block", e);
        }

        if (length != raw.Length)
        {
            throw SizeMismatch(raw.Length, length);
        }

        var written = Snappy.Decompress(compressed, raw);
        if (written != raw.Length)
        {
            throw SizeMismatch(raw.Length, written);
        }
    }
}
