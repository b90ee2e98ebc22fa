using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;

namespace LokiSharp.Storage.Store;

/// <summary>
/// Settings of the chunk store. The host maps Loki's YAML onto it: <c>storage_config.filesystem.directory</c>
/// (or <c>common.path_prefix</c> + <c>/chunks</c>) to <see cref="RootDirectory"/>, <c>ingester.chunk_encoding</c>
/// to <see cref="ChunkEncoding"/>, <c>ingester.chunk_block_size</c> to <see cref="TargetBlockSize"/> and
/// <c>schema_config.configs</c> to <see cref="SchemaPeriods"/>.
/// </summary>
public sealed class StorageOptions
{
    /// <summary>Directory holding every tenant's chunks and index.</summary>
    public required string RootDirectory { get; init; }

    /// <summary>Loki encoding name for new chunks (<c>snappy</c>, Loki 3's default).</summary>
    public string ChunkEncoding { get; init; } = "snappy";

    /// <summary>Raw bytes after which a chunk block is cut (Loki's <c>chunk_block_size</c>, 256 KB).</summary>
    public int TargetBlockSize { get; init; } = ChunkFormat.DefaultTargetBlockSize;

    /// <summary>Content filter budget as a share of compressed block bytes; 0 disables content filters.</summary>
    public double ContentFilterRatio { get; init; } = 0.03;

    /// <summary>Schema periods in any order; empty means one period from 1970 with 24h <c>index_</c> tables.</summary>
    public IReadOnlyList<SchemaPeriod> SchemaPeriods { get; init; } = [];

    /// <summary>How long after its period ends an index table is sealed into its immutable form.</summary>
    public TimeSpan SealGracePeriod { get; init; } = TimeSpan.FromHours(2);

    /// <summary>
    /// Called for every corrupt or unreadable file, chunk or block met (log it and count it): once per index file
    /// load, once per chunk or block over the store's lifetime however many queries skip it.
    /// </summary>
    public Action<StorageCorruption>? OnCorruption { get; init; }

    /// <summary>The parsed <see cref="ChunkEncoding"/>.</summary>
    public ChunkEncoding Encoding => ChunkEncodings.Parse(ChunkEncoding);

    /// <summary>A chunk builder with these settings.</summary>
    public ChunkBuilder CreateChunkBuilder() => new(Encoding, TargetBlockSize, ContentFilterRatio);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(RootDirectory))
        {
            throw new ArgumentException("storage root directory must be set", nameof(RootDirectory));
        }

        _ = Encoding;
        if (TargetBlockSize < 1024)
        {
            throw new ArgumentException($"chunk block size {TargetBlockSize} is too small", nameof(TargetBlockSize));
        }

        if (ContentFilterRatio is < 0 or > 1)
        {
            throw new ArgumentException("content filter ratio must lie in [0, 1]", nameof(ContentFilterRatio));
        }

        foreach (var period in SchemaPeriods)
        {
            if (period.IndexPeriod <= TimeSpan.Zero || period.IndexPeriod.Ticks % TimeSpan.TicksPerHour != 0)
            {
                throw new ArgumentException(
                    $"schema period from {period.From:yyyy-MM-dd}: index period must be a positive multiple of 1h",
                    nameof(SchemaPeriods));
            }

            if (period.IndexPrefix.Length == 0 || period.IndexPrefix.IndexOfAny(['/', '\\', '.']) >= 0 ||
                char.IsAsciiDigit(period.IndexPrefix[^1]))
            {
                throw new ArgumentException(
                    $"schema period from {period.From:yyyy-MM-dd}: index prefix '{period.IndexPrefix}' must be a file name not ending in a digit",
                    nameof(SchemaPeriods));
            }
        }
    }
}

/// <summary>One <c>schema_config.configs</c> entry: from which day its index tables are used.</summary>
public sealed class SchemaPeriod
{
    /// <summary>First day (UTC) the period is in force.</summary>
    public required DateOnly From { get; init; }

    /// <summary>Table name prefix (<c>index.prefix</c>, default <c>index_</c>).</summary>
    public string IndexPrefix { get; init; } = "index_";

    /// <summary>Table length (<c>index.period</c>, 24h).</summary>
    public TimeSpan IndexPeriod { get; init; } = TimeSpan.FromHours(24);
}

/// <summary>What kind of stored data was found corrupt or unreadable.</summary>
public enum CorruptionKind
{
    /// <summary>An index file (or its torn tail).</summary>
    Index,

    /// <summary>A whole chunk: unreadable pack, bad envelope or block table.</summary>
    Chunk,

    /// <summary>One block of a chunk; the chunk's other blocks are still served.</summary>
    Block,
}

/// <summary>A corrupt or unreadable piece of storage that was skipped.</summary>
/// <param name="Tenant">Tenant owning it, empty when unknown.</param>
/// <param name="Path">File concerned.</param>
/// <param name="Message">What was wrong.</param>
/// <param name="Kind">Whether an index file, a chunk or one block was skipped.</param>
public readonly record struct StorageCorruption(string Tenant, string Path, string Message,
    CorruptionKind Kind = CorruptionKind.Index);
