using LokiSharp.LogQL.Labels;

namespace LokiSharp.Ingester.Head;

/// <summary>
/// One stream in the head: the open block receiving appends and the sealed blocks waiting to be stored, plus
/// what Loki's stream keeps for its write checks (newest timestamp, the last entry for duplicate detection, a
/// per-stream rate limiter, the last append). <see cref="Sync"/> guards the blocks, <see cref="WriteChecks"/> the write
/// checks; a thread holding both takes <see cref="Sync"/> first.
/// </summary>
internal sealed class HeadStream(LabelSet labels, ulong fingerprint, string tenant, int partSize, HeadSpill? spill, TailBudget? tails = null)
{
    private byte[]? _walLabels;

    public Lock Sync { get; } = new();

    /// <summary>
    /// Guards <see cref="HighestTimestamp"/>, <see cref="Last"/>, <see cref="RateLimiter"/>, <see cref="LastAppendAt"/> and
    /// <see cref="Removed"/>: a push's admission takes only this one, so it does not spin and wait while the WAL's commit
    /// thread appends an earlier push to the blocks under <see cref="Sync"/> (the README's performance section has what that
    /// waiting cost).
    /// </summary>
    public Lock WriteChecks { get; } = new();

    public LabelSet Labels { get; } = labels;

    public string LabelsText { get; } = labels.ToString();

    /// <summary><see cref="LabelsText"/> as the WAL's entries records hold it, encoded once for the stream's lifetime.</summary>
    public byte[] WalLabels => _walLabels ??= Wal.WalRecord.EncodeLabels(LabelsText);

    public ulong Fingerprint { get; } = fingerprint;

    public string Tenant { get; } = tenant;

    public HeadBlock Open { get; set; } = new(partSize, spill, tails);

    /// <summary>A fresh block for appends, after the open one is sealed.</summary>
    public HeadBlock NewBlock() => new(partSize, spill, tails);

    public List<HeadBlock> Sealed { get; } = [];

    /// <summary>
    /// Blocks already stored but kept readable until <c>FlushedAt</c> plus the retain period, so a reader that has not
    /// yet refreshed its view of the bucket still finds their lines here.
    /// </summary>
    public List<(HeadBlock Block, long FlushedAt)> Retained { get; } = [];

    public long HighestTimestamp { get; set; } = long.MinValue;

    /// <summary>The last accepted entry, to drop an exact resend silently as Loki does (null before the first).</summary>
    public LastEntry? Last { get; private set; }

    /// <summary>Keeps a copy of the newest accepted entry for the next push's resend check.</summary>
    /// <remarks>
    /// Every push replaces it, so its line goes into the stream's one buffer instead of a new array each push (on the
    /// reference push load at 512 MB that copy per stream per push was 34 of the 259 MB allocated during the ingest).
    /// </remarks>
    public void KeepLast(long timestamp, ReadOnlySpan<byte> line, byte[] encodedMetadata)
    {
        var last = Last ??= new LastEntry();
        last.Set(timestamp, line, encodedMetadata);
    }

    /// <summary>Wall-clock ticks of the last admitted push (or of the stream's creation), for idleness.</summary>
    public long LastAppendAt
    {
        get => Volatile.Read(ref _lastAppendAt);
        set => Volatile.Write(ref _lastAppendAt, value);
    }

    private long _lastAppendAt;

    /// <summary>
    /// Set when the stream is forgotten as idle and empty: a push that found it before then finds it removed when it
    /// admits its entries, and goes to the stream that replaces it instead of one no flush or query would see again.
    /// </summary>
    public bool Removed { get; set; }

    /// <summary>The validator's slot that hands this stream to pushes of its label text (released when removed).</summary>
    public HeadStreamSlot? Slot { get; set; }

    public TokenBucket RateLimiter { get; } = new();

    /// <summary>Oldest and newest timestamps across the open, sealed and retained blocks.</summary>
    public (long Min, long Max) TimeRange()
    {
        var min = Open.MinTimestamp;
        var max = Open.MaxTimestamp;
        foreach (var block in Sealed)
        {
            min = Math.Min(min, block.MinTimestamp);
            max = Math.Max(max, block.MaxTimestamp);
        }

        foreach (var (block, _) in Retained)
        {
            min = Math.Min(min, block.MinTimestamp);
            max = Math.Max(max, block.MaxTimestamp);
        }

        return (min, max);
    }

    /// <summary>True when nothing remains to store.</summary>
    public bool IsEmpty => Open.IsEmpty && Sealed.Count == 0;
}

/// <summary>A token bucket in bytes, as Go's <c>rate.Limiter</c>: <c>AllowN</c> fails for more than the burst.</summary>
public sealed class TokenBucket
{
    private double _tokens = double.NaN;
    private long _last;

    /// <summary>Takes <paramref name="amount"/> tokens if available at <paramref name="nowTicks"/>.</summary>
    public bool TryTake(double amount, double ratePerSecond, double burst, long nowTicks)
    {
        if (ratePerSecond <= 0)
        {
            return true;
        }

        if (double.IsNaN(_tokens))
        {
            _tokens = burst;
            _last = nowTicks;
        }

        var elapsed = Math.Max(0, nowTicks - _last) / (double)TimeSpan.TicksPerSecond;
        _tokens = Math.Min(burst, _tokens + elapsed * ratePerSecond);
        _last = nowTicks;
        if (amount > _tokens)
        {
            return false;
        }

        _tokens -= amount;
        return true;
    }
}
