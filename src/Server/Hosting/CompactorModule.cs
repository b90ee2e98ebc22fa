using LokiSharp.Compactor;

namespace LokiSharp.Server.Hosting;

/// <summary>
/// Loki's <c>compactor</c> module: runs the compactor every <c>compaction_interval</c> (first run right after
/// start) and logs what each run freed, so an operator can see retention at work.
/// </summary>
internal sealed partial class CompactorModule(StoreCompactor compactor, LokiSharp.Server.Configuration.LokiConfig config, TimeProvider time,
    ILogger<CompactorModule> logger)
    : ILokiModule, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public string Name => "compactor";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var options = compactor.Options;
        LogStarted(options.CompactionInterval, options.RetentionEnabled, config.LimitsConfig.RetentionPeriod,
            options.RetentionDeleteDelay);
        _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _stopping.Dispose();

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(compactor.Options.CompactionInterval, time);
        do
        {
            try
            {
                var r = await compactor.RunAsync(cancellationToken).ConfigureAwait(false);
                if (r.SteppedDownFor is { } other)
                {
                    LogSteppedDown(other, compactor.Heartbeat?.Key ?? "");
                    continue;
                }

                LogRun(r.TablesCompacted, r.RetentionApplied, r.ChunksExpired, r.ChunksDeletedByRequests,
                    r.ChunksRewritten, r.ChunksLeftDamaged, r.LinesDeleted, r.RequestsProcessed, r.PacksMarked, r.PacksDeleted,
                    r.BytesFreed, r.PacksPending, r.Duration.TotalSeconds);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The next run recomputes everything from the store, so a failed run (disk full, an unreadable
                // file) is retried as a whole; whatever it was, the loop must keep running.
                LogFailed(e);
            }
        }
        while (await WaitAsync(timer, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "compactor started")]
    private partial void LogStarted(TimeSpan compactionInterval, bool retentionEnabled, TimeSpan retentionPeriod,
        TimeSpan retentionDeleteDelay);

    [LoggerMessage(Level = LogLevel.Information, Message = "compaction run finished")]
    private partial void LogRun(int tablesCompacted, bool retentionApplied, int chunksExpired, int chunksDeletedByRequests,
        int chunksRewritten, int chunksLeftDamaged, long linesDeleted, int deleteRequestsProcessed, int packsMarked, int packsDeleted,
        long bytesFreed, int packsPendingDelete, double durationSeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "another compactor with a newer epoch is running on the same bucket " +
        "({Other}); this one ({Self}) stops compacting and reports not ready until it stops beating - run one compactor per bucket")]
    private partial void LogSteppedDown(string other, string self);

    [LoggerMessage(Level = LogLevel.Error, Message = "compaction run failed; retrying at the next interval")]
    private partial void LogFailed(Exception exception);
}
