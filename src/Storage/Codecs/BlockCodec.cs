using System.Buffers;

namespace LokiSharp.Storage.Codecs;

/// <summary>Compresses and decompresses one chunk block; instances are stateless and thread-safe.</summary>
public abstract class BlockCodec
{
    private static readonly BlockCodec[] Codecs =
    [
        new NoneCodec(), new DeflateFamilyCodec(ChunkEncoding.Gzip), new SnappyCodec(),
        new Lz4Codec(ChunkEncoding.Lz4_64K), new Lz4Codec(ChunkEncoding.Lz4_256K), new Lz4Codec(ChunkEncoding.Lz4_1M),
        new Lz4Codec(ChunkEncoding.Lz4_4M), new DeflateFamilyCodec(ChunkEncoding.Flate), new ZstdCodec(),
    ];

    /// <summary>The encoding this codec implements.</summary>
    public abstract ChunkEncoding Encoding { get; }

    /// <summary>The codec for an encoding.</summary>
    public static BlockCodec For(ChunkEncoding encoding) => (int)encoding < Codecs.Length
        ? Codecs[(int)encoding]
        : throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "unknown chunk encoding");

    /// <summary>Compresses <paramref name="raw"/> into <paramref name="output"/>; returns the bytes written.</summary>
    public abstract int Compress(ReadOnlySpan<byte> raw, IBufferWriter<byte> output);

    /// <summary>
    /// Decompresses <paramref name="compressed"/> into <paramref name="raw"/>, whose length is the exact
    /// uncompressed size recorded for the block.
    /// </summary>
    /// <exception cref="InvalidDataException">The data is not a valid stream of this codec or has the wrong size.</exception>
    public abstract void Decompress(ReadOnlySpan<byte> compressed, Span<byte> raw);

    /// <summary>Throws the common size-mismatch error.</summary>
    protected static InvalidDataException SizeMismatch(int expected, int actual) =>
        new($"block decompressed to {actual} bytes, expected {expected}");
}
