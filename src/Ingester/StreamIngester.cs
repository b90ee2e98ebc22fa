using System.Collections.Concurrent;
using LokiSharp.Ingester.Distribution;
using LokiSharp.Ingester.Head;
using LokiSharp.Ingester.Limits;
using LokiSharp.Ingester.Tail;
using LokiSharp.Ingester.Wal;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Reading;
using LokiSharp.Storage.Store;

namespace LokiSharp.Ingester;

/// <summary>
/// The ingester: per-tenant streams in memory, every accepted entry in the write-ahead log before the push is
/// acknowledged, blocks cut by size, age and idleness and stored as chunks, and the same read interface as the
/// chunk store so the querier sees data before it is flushed.
/// </summary>
public sealed partial class StreamIngester : ILogSource, IDisposable
{
    private readonly IngesterOptions _options;
    private readonly ChunkStore _store;
    private readonly ITenantLimits _limits;
    private readonly IngesterMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly PushValidator _validator;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<LabelSet, HeadStream>> _tenants = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TokenBucket> _tenantRates = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _flushLock = new(1, 1);

    // Pushes whose WAL record is being committed, by record id, with the segment their record goes to at the
    // earliest: their entries are not in the head yet, so the WAL segment is kept for them.
    private readonly ConcurrentDictionary<long, long> _inFlight = new();
    private readonly CancellationTokenSource _stopping = new();

    // Head blocks compress their tail on the appending thread; ChunkBuilder is not thread-safe, so each compression borrows one.
    private readonly ChunkBuilderPool _builders;
    private readonly int _partSize;

    // Where compressed head parts live instead of the managed heap; null when off or its directory is unusable.
    private readonly HeadSpill? _spill;
    private readonly TailBudget? _tails;
    private WriteAheadLog? _wal;
    private Task? _flushLoop;
    private long _recordId;
    private long _headBytes;

    // A flush during replay (the head outgrew its bound) must not drop segments that are still to be replayed.
    private volatile bool _replaying;
    private int _disposed;

    public StreamIngester(IngesterOptions options, ChunkStore store, ITenantLimits limits, IngesterMetrics metrics, TimeProvider time)
    {
        _options = options;
        _store = store;
        _limits = limits;
        _metrics = metrics;
        _time = time;
        _validator = new PushValidator(metrics, time);
        _partSize = store.Options.TargetBlockSize;
        _builders = new ChunkBuilderPool(store.Options.CreateChunkBuilder);
        // The tail budget makes smaller head parts, hence smaller stored blocks: codecs picked for size would lose
        // about 6% of their ratio (zstd 0.151 -> 0.160 of raw on the reference load), so they keep full-size parts.
        _tails = ChunkBuilder.IsPickedForSize(store.Options.Encoding) ? null : new TailBudget(TailBudget.DefaultBytes);
        _spill = options.SpillHead ? OpenSpill(options.SpillDirectory ?? Path.Combine(options.WalDirectory, "head-spill")) : null;
    }

    /// <summary>Problems met while replaying the WAL, for the start-up log.</summary>
    public List<WalDamage> ReplayDamage { get; } = [];

    /// <summary>Entries restored from the WAL at start.</summary>
    public long ReplayedEntries { get; private set; }

    /// <summary>Live tails: notified of every durable push.</summary>
    public TailBroadcaster Tail { get; } = new();

    /// <summary>Raised when a periodic flush fails (disk full, I/O error); it is retried on the next tick.</summary>
    public event Action<Exception>? FlushFailed;

    /// <summary>Compressed head bytes kept in spill files rather than in memory.</summary>
    internal long SpilledBytes => _spill?.Bytes ?? 0;

    /// <summary>Spill files still open, holding disk space.</summary>
    internal int OpenSpillFiles => _spill?.OpenFiles ?? 0;

    /// <summary>Unflushed bytes held in memory.</summary>
    public long HeadBytes => Interlocked.Read(ref _headBytes);

    /// <summary>Replays the WAL into the head, then starts logging and the periodic flush.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.WalEnabled)
        {
            OpenAndReplayWal();
        }

        _flushLoop = Task.Run(() => FlushLoopAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Stops the periodic flush and, when configured to, stores everything still in memory.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_flushLoop is not null)
        {
            await _flushLoop.ConfigureAwait(false);
        }

        if (_options.FlushOnShutdown || _wal is null)
        {
            await FlushAsync(force: true, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _wal?.Dispose();
        _stopping.Dispose();
        _flushLock.Dispose();
        _builders.Dispose();
        _spill?.Dispose();
    }

    // An unusable spill directory costs memory, not the start: parts then stay in memory as without a spill.
    private static HeadSpill? OpenSpill(string directory)
    {
        try
        {
            return new HeadSpill(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
