using System.Buffers;
using ZstdSharp;

namespace LokiSharp.Storage.Codecs;

/// <summary>
/// Zstandard through ZstdSharp. Contexts are not thread-safe: decompression contexts are per thread (small), compression
/// contexts are lent from a pool (6 MB each at level 8 for a 256 KiB block, and every thread-pool thread compresses now
/// and then: one per thread kept about 30 MB more resident than level 6 did).
/// </summary>
internal sealed class ZstdCodec : BlockCodec
{
    // Level 8 (lazy2 matching, deeper search) over columnar blocks: with the id filters the reference dataset took
    // 0.151 of its raw size at level 6 (level 7: 0.149, 8: 0.148, 9: 0.148 at 20% more encoding CPU than 8; the
    // compression study, see docs/formats/chunk.md). Decoding speed does not depend on the level.
    private const int Level = 8;

    // Compression contexts kept for reuse: at most one per core compresses at a time.
    private static readonly Stack<Compressor> Compressors = new();
    private static readonly Lock CompressorsSync = new();

    [ThreadStatic]
    private static Decompressor? _decompressor;

    public override ChunkEncoding Encoding => ChunkEncoding.Zstd;

    public override int Compress(ReadOnlySpan<byte> raw, IBufferWriter<byte> output)
    {
        Compressor? compressor;
        lock (CompressorsSync)
        {
            Compressors.TryPop(out compressor);
        }

        compressor ??= new Compressor(Level);
        try
        {
            var bound = Compressor.GetCompressBound(raw.Length);
            var written = compressor.Wrap(raw, output.GetSpan(bound)[..bound]);
            output.Advance(written);
            return written;
        }
        finally
        {
            Return(compressor);
        }
    }

    private static void Return(Compressor compressor)
    {
        lock (CompressorsSync)
        {
            if (Compressors.Count < Environment.ProcessorCount)
            {
                Compressors.Push(compressor);
                return;
            }
        }

        compressor.Dispose();
    }

    public override void Decompress(ReadOnlySpan<byte> compressed, Span<byte> raw)
    {
        var decompressor = _decompressor ??= new Decompressor();
        int written;
        try
        {
            written = decompressor.Unwrap(compressed, raw);
        }
        catch (ZstdException e)
        {
            throw new InvalidDataException("invalid zstd block: " + e.Message, e);
        }

        if (written != raw.Length)
        {
            throw SizeMismatch(raw.Length, written);
        }
    }
}
