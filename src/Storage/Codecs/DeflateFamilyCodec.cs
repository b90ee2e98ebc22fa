using System.Buffers;
using System.IO.Compression;

namespace LokiSharp.Storage.Codecs;

/// <summary>gzip and raw deflate (Loki's <c>flate</c>) through System.IO.Compression.</summary>
internal sealed class DeflateFamilyCodec(ChunkEncoding encoding) : BlockCodec
{
    public override ChunkEncoding Encoding { get; } = encoding;

    public override int Compress(ReadOnlySpan<byte> raw, IBufferWriter<byte> output)
    {
        var sink = new BufferWriterStream(output);
        using (var stream = Open(sink, CompressionMode.Compress))
        {
            stream.Write(raw);
        }

        return checked((int)sink.Written);
    }

    public override unsafe void Decompress(ReadOnlySpan<byte> compressed, Span<byte> raw)
    {
        fixed (byte* p = compressed)
        {
            using var source = new UnmanagedMemoryStream(p, compressed.Length);
            using var stream = Open(source, CompressionMode.Decompress);
            try
            {
                stream.ReadExactly(raw);
                Span<byte> probe = stackalloc byte[1];
                if (stream.Read(probe) != 0)
                {
                    throw new InvalidDataException("block decompresses to more bytes than recorded");
                }
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException("block decompresses to fewer bytes than recorded", e);
            }
        }
    }

    private Stream Open(Stream inner, CompressionMode mode) => Encoding == ChunkEncoding.Gzip
        ? mode == CompressionMode.Compress
            ? new GZipStream(inner, CompressionLevel.Optimal, leaveOpen: true)
            : new GZipStream(inner, mode, leaveOpen: true)
        : mode == CompressionMode.Compress
            ? new DeflateStream(inner, CompressionLevel.Optimal, leaveOpen: true)
            : new DeflateStream(inner, mode, leaveOpen: true);
}
