namespace LokiSharp.Ingester.Head;

/// <summary>
/// Bytes of tail segments held by all head blocks of one ingester, and the budget past which a block compresses
/// its tail into a part early. Without it the first fill of a busy head keeps every stream's tail near the part
/// size at once (160 streams x 256 KiB = 40 MB of pinned segments), and the pinned heap keeps that peak for good.
/// Only part boundaries change; every entry stays in the head. Updated per segment, not per entry.
/// </summary>
internal sealed class TailBudget(long maxBytes)
{
    private long _bytes;

    /// <summary>Tail bytes allowed across streams before tails of at least a quarter part are compressed early.</summary>
    public const long DefaultBytes = 16L << 20;

    /// <summary>Segment bytes held now.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>True when the tails hold more than the budget.</summary>
    public bool IsOver => Volatile.Read(ref _bytes) > maxBytes;

    /// <summary>Counts segment bytes taken (positive) or given up (negative).</summary>
    public void Add(long bytes) => Interlocked.Add(ref _bytes, bytes);
}
