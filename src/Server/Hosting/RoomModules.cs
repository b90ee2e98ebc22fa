using LokiSharp.Storage.Store;
using Microsoft.Extensions.Logging;

namespace LokiSharp.Server.Hosting;

/// <summary>
/// Loki's <c>store</c> module: the chunk store. It seals the index tables of closed periods every hour (they
/// become immutable files) and is closed after the ingester's final flush.
/// </summary>
internal sealed partial class StoreModule(ChunkStore store, TimeProvider time, ILogger<StoreModule> logger) : ILokiModule, IDisposable
{
    private ITimer? _sealer;

    public string Name => "store";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _sealer = time.CreateTimer(_ => Seal(), null, TimeSpan.Zero, TimeSpan.FromHours(1));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        store.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _sealer?.Dispose();

    private void Seal()
    {
        try
        {
            var sealedTables = store.SealClosedTables(time.GetUtcNow());
            if (sealedTables > 0)
            {
                LogSealed(sealedTables);
            }
        }
        catch (IOException e)
        {
            LogSealFailed(e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "sealed index tables of closed periods")]
    private partial void LogSealed(int tables);

    [LoggerMessage(Level = LogLevel.Error, Message = "failed to seal index tables; will retry next hour")]
    private partial void LogSealFailed(Exception e);
}

/// <summary>
/// Reports corrupt or unreadable index files, chunks and blocks met while loading or reading: one error log line
/// with the file and what was skipped, and <c>loki_lokisharp_corrupt_data_total{tenant,kind}</c>. The store reports
/// each damaged chunk or block once, not once per query.
/// </summary>
internal sealed partial class CorruptionReporter(ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger("LokiSharp.Storage.Corruption");
    private readonly Prometheus.Counter _corrupt = Prometheus.Metrics.CreateCounter("loki_lokisharp_corrupt_data_total",
        "Corrupt or unreadable index files, chunks and chunk blocks found and skipped, per tenant and kind (index, chunk, block).",
        ["tenant", "kind"]);

    public void Report(StorageCorruption corruption)
    {
        var kind = corruption.Kind switch
        {
            CorruptionKind.Chunk => "chunk",
            CorruptionKind.Block => "block",
            _ => "index",
        };
        _corrupt.WithLabels(corruption.Tenant, kind).Inc();
        LogCorruption(corruption.Tenant, kind, corruption.Path, corruption.Message);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "corrupt data skipped")]
    private partial void LogCorruption(string tenant, string kind, string path, string reason);
}

/// <summary>Loki's <c>ingester</c> module: replays the WAL on start, flushes everything on stop.</summary>
internal sealed partial class IngesterModule(Ingester.StreamIngester ingester, ILogger<IngesterModule> logger) : ILokiModule
{
    private volatile bool _running;

    public string Name => "ingester";

    /// <summary>False while the WAL replays and after shutdown began; pushes are refused meanwhile.</summary>
    public bool Running => _running;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ingester.FlushFailed += e => LogFlushFailed(e.Message);
        await ingester.StartAsync(cancellationToken).ConfigureAwait(false);
        foreach (var damage in ingester.ReplayDamage)
        {
            LogWalDamage(damage.Segment, damage.Offset, damage.Reason, damage.Truncated);
        }

        LogReplayed(ingester.ReplayedEntries, ingester.HeadBytes);
        _running = true;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _running = false;
        await ingester.StopAsync(cancellationToken).ConfigureAwait(false);
        ingester.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "write-ahead log damage skipped; intact records after it were replayed")]
    private partial void LogWalDamage(string segment, long offset, string reason, bool truncated);

    [LoggerMessage(Level = LogLevel.Error, Message = "flush failed; the chunks stay in memory and the WAL and are retried")]
    private partial void LogFlushFailed(string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "write-ahead log replayed")]
    private partial void LogReplayed(long entries, long bytes);
}
