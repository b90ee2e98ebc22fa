using LokiSharp.Ingester;

namespace LokiSharp.Server.Hosting;

/// <summary>Loki's <c>ingester</c> module: replays the WAL on start, flushes everything on stop.</summary>
internal sealed partial class IngesterModule(StreamIngester ingester, ILogger<IngesterModule> logger) : ILokiModule
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
