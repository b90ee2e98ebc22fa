namespace LokiSharp.Storage.Reading;

/// <summary>
/// Process-wide sums of what chunk readers did (blocks decoded or skipped, bytes loaded and decoded), added once per
/// finished reader, so the host can export them and a needle search's cost can be seen from outside.
/// </summary>
public static class BlockReadTotals
{
    private static long _chunks;
    private static long _decoded;
    private static long _skippedByTime;
    private static long _skippedByContent;
    private static long _corrupt;
    private static long _loadedBytes;
    private static long _compressedBytes;
    private static long _skippedByContentBytes;
    private static long _decompressedBytes;

    /// <summary>Adds a finished reader's counters.</summary>
    public static void Add(ReadStats stats)
    {
        Interlocked.Add(ref _chunks, stats.Chunks);
        Interlocked.Add(ref _decoded, stats.BlocksDecoded);
        Interlocked.Add(ref _skippedByTime, stats.BlocksSkippedByTime);
        Interlocked.Add(ref _skippedByContent, stats.BlocksSkippedByContent);
        Interlocked.Add(ref _corrupt, stats.Corrupt);
        Interlocked.Add(ref _loadedBytes, stats.LoadedBytes);
        Interlocked.Add(ref _compressedBytes, stats.CompressedBytes);
        Interlocked.Add(ref _skippedByContentBytes, stats.SkippedByContentBytes);
        Interlocked.Add(ref _decompressedBytes, stats.DecompressedBytes);
    }

    /// <summary>The sums so far.</summary>
    public static ReadStats Snapshot() => new()
    {
        Chunks = (int)Math.Min(int.MaxValue, Interlocked.Read(ref _chunks)),
        BlocksDecoded = (int)Math.Min(int.MaxValue, Interlocked.Read(ref _decoded)),
        BlocksSkippedByTime = (int)Math.Min(int.MaxValue, Interlocked.Read(ref _skippedByTime)),
        BlocksSkippedByContent = (int)Math.Min(int.MaxValue, Interlocked.Read(ref _skippedByContent)),
        Corrupt = (int)Math.Min(int.MaxValue, Interlocked.Read(ref _corrupt)),
        LoadedBytes = Interlocked.Read(ref _loadedBytes),
        CompressedBytes = Interlocked.Read(ref _compressedBytes),
        SkippedByContentBytes = Interlocked.Read(ref _skippedByContentBytes),
        DecompressedBytes = Interlocked.Read(ref _decompressedBytes),
    };
}
