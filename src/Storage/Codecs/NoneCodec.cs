using System.Buffers;

namespace LokiSharp.Storage.Codecs;

/// <summary>Stores blocks as they are.</summary>
internal sealed class NoneCodec : BlockCodec
{
    public override ChunkEncoding Encoding => ChunkEncoding.None;

    public override int Compress(ReadOnlySpan<byte> raw, IBufferWriter<byte> output)
    {
        output.Write(raw);
        return raw.Length;
    }

    public override void Decompress(ReadOnlySpan<byte> compressed, Span<byte> raw)
    {
        if (compressed.Length != raw.Length)
        {
            throw SizeMismatch(raw.Length, compressed.Length);
        }

        compressed.CopyTo(raw);
    }
}
