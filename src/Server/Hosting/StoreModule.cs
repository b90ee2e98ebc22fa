using LokiSharp.Storage.Store;

namespace LokiSharp.Server.Hosting;

/// <summary>
/// Loki's <c>store</c> module: the chunk store. When this process writes a local store, it seals the index tables of
/// closed periods every hour (they become immutable files); over a bucket, it refreshes the index from the bucket
/// every <c>resync_interval</c> (sooner while the bucket is unreachable) and exports the bucket's metrics. It is
/// closed after the ingester's final flush.
/// </summary>
internal sealed partial class StoreModule(ChunkStore store, TimeProvider time, ILogger<StoreModule> logger) : ILokiModule, IDisposable
{
    // While the bucket is unreachable, look again this often (or every resync_interval if that is shorter).
    private static readonly TimeSpan UnreachableRetry = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _sealer;
    private Task? _refresher;
    private ObjectStoreMetrics? _metrics;

    public string Name => "store";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (store.ResyncInterval is { } interval)
        {
            _metrics = new ObjectStoreMetrics(store);
            _refresher = RefreshLoopAsync(interval, _stopping.Token);
            return Task.CompletedTask;
        }

        // A read-only store belongs to the process that writes it; sealing is that one's job.
        if (store.ReadOnly)
        {
            return Task.CompletedTask;
        }

        _sealer = time.CreateTimer(_ => Seal(), null, TimeSpan.Zero, TimeSpan.FromHours(1));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_refresher is { } refresher)
        {
            await refresher.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        Dispose();
        store.Dispose();
    }

    public void Dispose()
    {
        _sealer?.Dispose();
        _metrics?.Dispose();
        _stopping.Dispose();
    }

    private async Task RefreshLoopAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var unreachable = store.BucketHealth?.Unreachable == true;
            try
            {
                await Task.Delay(unreachable && UnreachableRetry < interval ? UnreachableRetry : interval, time, cancellationToken)
                    .ConfigureAwait(false);
                await store.RefreshAsync(cancellationToken).ConfigureAwait(false);
                if (unreachable)
                {
                    LogReachable();
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is Storage.Objects.ObjectStoreException or IOException)
            {
                LogRefreshFailed(e);
            }
        }
    }

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

    [LoggerMessage(Level = LogLevel.Error, Message = "failed to refresh the index from the object store; queries answer from what was loaded before")]
    private partial void LogRefreshFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Information, Message = "the object store answers again")]
    private partial void LogReachable();
}
