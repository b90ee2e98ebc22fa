using System.Buffers;
using Snappier;

namespace LokiSharp.Storage.Codecs;

/// <summary>Snappy block format through Snappier.</summary>
internal sealed class SnappyCodec : BlockCodec
{
    [ThreadStatic]
    private static PinnedBytes? _input;

    [ThreadStatic]
    private static PinnedBytes? _output;

    public override ChunkEncoding Encoding => ChunkEncoding.Snappy;

    public override int Compress(ReadOnlySpan<byte> raw, IBufferWriter<byte> output)
    {
        var span = output.GetSpan(Snappy.GetMaxCompressedLength(raw.Length));
        var written = Snappy.Compress(raw, span);
        output.Advance(written);
        return written;
    }

    // Snappier's span overload decompresses into a pooled buffer, then copies it out and clears it; its writer
    // overload decompresses straight into the writer's memory, so the block's raw bytes are written once.
    public override unsafe void Decompress(ReadOnlySpan<byte> compressed, Span<byte> raw)
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

        fixed (byte* source = compressed)
        fixed (byte* target = raw)
        {
            // Per thread, pointed at this call's bytes and away from them after.
            var input = (_input ??= new PinnedBytes()).Point(source, compressed.Length);
            var output = (_output ??= new PinnedBytes()).Point(target, raw.Length);
            try
            {
                Snappy.Decompress(new ReadOnlySequence<byte>(input.Memory), output);
                if (output.Written != raw.Length)
                {
                    throw SizeMismatch(raw.Length, output.Written);
                }
            }
            finally
            {
                input.Point(null, 0);
                output.Point(null, 0);
            }
        }
    }
}
