using LokiSharp.Storage.Store;

namespace LokiSharp.Server.Hosting;

/// <summary>
/// Loki's <c>store</c> module: the chunk store. When this process writes it, it seals the index tables of closed
/// periods every hour (they become immutable files); it is closed after the ingester's final flush.
/// </summary>
internal sealed partial class StoreModule(ChunkStore store, TimeProvider time, ILogger<StoreModule> logger) : ILokiModule, IDisposable
{
    private ITimer? _sealer;

    public string Name => "store";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // A read-only store belongs to the process that writes it; sealing is that one's job.
        if (store.ReadOnly)
        {
            return Task.CompletedTask;
        }

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
