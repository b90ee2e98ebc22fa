using System.Buffers;
using K4os.Compression.LZ4;

namespace LokiSharp.Storage.Codecs;

/// <summary>
/// LZ4 block format through K4os. Loki's size suffix picks its LZ4 frame buffer; here a chunk block is
/// already one bounded unit (~256 KB), so every variant compresses the whole block as one LZ4 block and the
/// variants differ only in the name they keep.
/// </summary>
internal sealed class Lz4Codec(ChunkEncoding encoding) : BlockCodec
{
    public override ChunkEncoding Encoding { get; } = encoding;

    public override int Compress(ReadOnlySpan<byte> raw, IBufferWriter<byte> output)
    {
        if (raw.IsEmpty)
        {
            return 0;
        }

        var span = output.GetSpan(LZ4Codec.MaximumOutputSize(raw.Length));
        var written = LZ4Codec.Encode(raw, span[..LZ4Codec.MaximumOutputSize(raw.Length)], LZ4Level.L00_FAST);
        if (written <= 0)
        {
            throw new InvalidOperationException("lz4 compression failed");
        }

        output.Advance(written);
        return written;
    }

    public override void Decompress(ReadOnlySpan<byte> compressed, Span<byte> raw)
    {
        if (raw.IsEmpty && compressed.IsEmpty)
        {
            return;
        }

        var written = LZ4Codec.Decode(compressed, raw);
        if (written != raw.Length)
        {
            throw SizeMismatch(raw.Length, written);
        }
    }
}
