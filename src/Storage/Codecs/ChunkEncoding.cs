namespace LokiSharp.Storage.Codecs;

/// <summary>Block compression of a chunk; the numeric value is stored in the chunk header and must not change.</summary>
public enum ChunkEncoding : byte
{
    /// <summary>Loki's <c>none</c>: blocks stored uncompressed.</summary>
    None = 0,

    /// <summary>Loki's <c>gzip</c>.</summary>
    Gzip = 1,

    /// <summary>Loki's <c>snappy</c> (block format).</summary>
    Snappy = 2,

    /// <summary>Loki's <c>lz4-64k</c>.</summary>
    Lz4_64K = 3,

    /// <summary>Loki's <c>lz4-256k</c>.</summary>
    Lz4_256K = 4,

    /// <summary>Loki's <c>lz4-1M</c>.</summary>
    Lz4_1M = 5,

    /// <summary>Loki's <c>lz4-4M</c>, also what Loki's plain <c>lz4</c> means.</summary>
    Lz4_4M = 6,

    /// <summary>Loki's <c>flate</c> (raw deflate).</summary>
    Flate = 7,

    /// <summary>Loki's <c>zstd</c>.</summary>
    Zstd = 8,
}

/// <summary>Maps <c>ingester.chunk_encoding</c> names to <see cref="ChunkEncoding"/> and back.</summary>
public static class ChunkEncodings
{
    /// <summary>Every encoding, in numeric order.</summary>
    public static IReadOnlyList<ChunkEncoding> All { get; } =
    [
        ChunkEncoding.None, ChunkEncoding.Gzip, ChunkEncoding.Snappy, ChunkEncoding.Lz4_64K, ChunkEncoding.Lz4_256K,
        ChunkEncoding.Lz4_1M, ChunkEncoding.Lz4_4M, ChunkEncoding.Flate, ChunkEncoding.Zstd,
    ];

    /// <summary>Loki's name for an encoding.</summary>
    public static string Name(ChunkEncoding encoding) => encoding switch
    {
        ChunkEncoding.None => "none",
        ChunkEncoding.Gzip => "gzip",
        ChunkEncoding.Snappy => "snappy",
        ChunkEncoding.Lz4_64K => "lz4-64k",
        ChunkEncoding.Lz4_256K => "lz4-256k",
        ChunkEncoding.Lz4_1M => "lz4-1M",
        ChunkEncoding.Lz4_4M => "lz4-4M",
        ChunkEncoding.Flate => "flate",
        ChunkEncoding.Zstd => "zstd",
        _ => throw new ArgumentOutOfRangeException(nameof(encoding)),
    };

    /// <summary>Parses a Loki encoding name; Loki accepts <c>lz4</c> as <c>lz4-4M</c> and any letter case.</summary>
    public static bool TryParse(string? name, out ChunkEncoding encoding)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "none":
                encoding = ChunkEncoding.None;
                return true;
            case "gzip":
                encoding = ChunkEncoding.Gzip;
                return true;
            case "snappy":
                encoding = ChunkEncoding.Snappy;
                return true;
            case "lz4-64k":
                encoding = ChunkEncoding.Lz4_64K;
                return true;
            case "lz4-256k":
                encoding = ChunkEncoding.Lz4_256K;
                return true;
            case "lz4-1m":
                encoding = ChunkEncoding.Lz4_1M;
                return true;
            case "lz4" or "lz4-4m":
                encoding = ChunkEncoding.Lz4_4M;
                return true;
            case "flate":
                encoding = ChunkEncoding.Flate;
                return true;
            case "zstd":
                encoding = ChunkEncoding.Zstd;
                return true;
            default:
                encoding = ChunkEncoding.None;
                return false;
        }
    }

    /// <summary>Parses a Loki encoding name.</summary>
    /// <exception cref="ArgumentException">The name is not one Loki accepts.</exception>
    public static ChunkEncoding Parse(string name) => TryParse(name, out var encoding)
        ? encoding
        : throw new ArgumentException(
            $"invalid encoding: {name}, supported: none, gzip, lz4-64k, snappy, lz4-256k, lz4-1M, lz4, flate, zstd",
            nameof(name));
}
