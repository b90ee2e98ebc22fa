using System.Diagnostics;
using LokiSharp.Compactor.Deletion;
using LokiSharp.Compactor.Retention;
using LokiSharp.Compactor.State;
using LokiSharp.Storage.Store;

namespace LokiSharp.Compactor;

/// <summary>What one compactor run did, for its log line.</summary>
/// <param name="TablesCompacted">Index tables merged into a new generation.</param>
/// <param name="RetentionApplied">Whether the retention and delete phases ran.</param>
/// <param name="ChunksExpired">Chunks removed from the index by retention.</param>
/// <param name="ChunksDeletedByRequests">Chunks removed from the index by delete requests.</param>
/// <param name="ChunksRewritten">Chunks rewritten without the entries delete requests removed.</param>
/// <param name="ChunksLeftDamaged">
/// Chunks a delete request would have rewritten but left whole because part of them is corrupt or unreadable
/// (the store logs and counts the damage; queries keep hiding the deleted entries).
/// </param>
/// <param name="LinesDeleted">Entries removed by delete requests.</param>
/// <param name="RequestsProcessed">Delete requests finished in this run.</param>
/// <param name="PacksMarked">Pack files newly found unreferenced (they wait out the delete delay).</param>
/// <param name="PacksDeleted">Pack files deleted from disk.</param>
/// <param name="BytesFreed">Bytes of those files.</param>
/// <param name="PacksPending">Marked pack files still waiting.</param>
/// <param name="Duration">Wall time of the run.</param>
public readonly record struct CompactionReport(
    int TablesCompacted,
    bool RetentionApplied,
    int ChunksExpired,
    int ChunksDeletedByRequests,
    int ChunksRewritten,
    int ChunksLeftDamaged,
    long LinesDeleted,
    int RequestsProcessed,
    int PacksMarked,
    int PacksDeleted,
    long BytesFreed,
    int PacksPending,
    TimeSpan Duration)
{
    /// <summary>
    /// Set when the run did nothing because a compactor with a newer epoch is alive on the same bucket: its heartbeat key.
    /// </summary>
    public string? SteppedDownFor { get; init; }
}

/// <summary>
/// The compactor: each run compacts index tables, then (when retention is enabled) applies due delete
/// requests, removes expired chunks from the index and deletes pack files that have been unreferenced for
/// <see cref="CompactorOptions.RetentionDeleteDelay"/>. Every step is durable before the next starts and is
/// recomputed from the store on the next run, so a crash anywhere loses nothing live and leaves nothing
/// expired behind once a later run completes. Runs are serialised.
/// </summary>
public sealed class StoreCompactor
{
    private readonly ChunkStore _store;
    private readonly CompactorOptions _options;
    private readonly Func<string, RetentionPolicy> _policyFor;
    private readonly CompactorMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly PackMarks _marks;
    private readonly SemaphoreSlim _running = new(1, 1);
    private DateTimeOffset _lastRetention = DateTimeOffset.MinValue;

    /// <summary>
    /// Creates the compactor; marks and delete requests are loaded from the working directory, or for a store in a
    /// bucket from the bucket (the store must have been opened with a compactor epoch then).
    /// </summary>
    /// <exception cref="ArgumentException">A bucket store opened without a compactor epoch.</exception>
    public StoreCompactor(ChunkStore store, CompactorOptions options, Func<string, RetentionPolicy> policyFor,
        CompactorMetrics metrics, TimeProvider time)
    {
        _store = store;
        _options = options;
        _policyFor = policyFor;
        _metrics = metrics;
        _time = time;
        DurableFile.EnsureDirectory(options.WorkingDirectory);
        ICompactorState state;
        if (store.Bucket is { } bucket)
        {
            var epoch = store.CompactorEpoch ?? throw new ArgumentException(
                "a compactor over a bucket needs the chunk store opened with its epoch (BucketOptions.CompactorEpoch)", nameof(store));
            state = new BucketCompactorState(bucket, epoch, options.RetentionDeleteDelay, time);
            Heartbeat = new CompactorHeartbeat(bucket, epoch, options.InstanceName, time);
        }
        else
        {
            state = new LocalCompactorState(options.WorkingDirectory);
        }

        _marks = new PackMarks(state);
        DeleteRequests = new DeleteRequestStore(state);
        metrics.CompactionInterval.Set(options.CompactionInterval.TotalSeconds);
        metrics.MarkerFilesCurrent.Set(_marks.Count);
    }

    /// <summary>The delete requests (the HTTP API adds and cancels them).</summary>
    public DeleteRequestStore DeleteRequests { get; }

    /// <summary>The settings in use.</summary>
    public CompactorOptions Options => _options;

    /// <summary>The heartbeat of a compactor over a bucket; null for the local layout.</summary>
    public CompactorHeartbeat? Heartbeat { get; }

    /// <summary>
    /// The heartbeat key of a newer compactor alive on the same bucket, as of the last run: while set, this one does
    /// nothing and reports not ready.
    /// </summary>
    public string? SteppedDownFor { get; private set; }

    /// <summary>Called after each durable step of a run with its name, for crash-simulation tests.</summary>
    internal Action<string>? StepHook { get; set; }

    /// <summary>Runs one compaction (and retention, when enabled and due).</summary>
    public async Task<CompactionReport> RunAsync(CancellationToken cancellationToken)
    {
        await _running.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Heartbeat is { } heartbeat)
            {
                SteppedDownFor = heartbeat.BeatAndFindNewer(_options.CompactionInterval, out var othersAlive);
                _store.SoleCompactor = !othersAlive;
                if (SteppedDownFor is { } other)
                {
                    return new CompactionReport(0, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, _marks.Count, TimeSpan.Zero) { SteppedDownFor = other };
                }

                // The newest view of the bucket: what writers flushed and other processes deleted since the last refresh.
                await _store.RefreshAsync(cancellationToken).ConfigureAwait(false);
            }

            _metrics.Running.Set(1);
            return Run(cancellationToken);
        }
        finally
        {
            _metrics.Running.Set(0);
            _running.Release();
        }
    }

    private CompactionReport Run(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var now = _time.GetUtcNow();
        int compacted;
        try
        {
            compacted = _store.SealClosedTables(now);
            StepHook?.Invoke("index-compacted");
            _metrics.CompactOperations.WithLabels("success").Inc();
            _metrics.CompactLastSuccess.Set(now.ToUnixTimeMilliseconds() / 1000.0);
            _metrics.CompactDuration.Set(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch
        {
            _metrics.CompactOperations.WithLabels("failure").Inc();
            throw;
        }

        var report = new CompactionReport(compacted, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, _marks.Count, TimeSpan.Zero);
        if (_options.RetentionEnabled && now - _lastRetention >= _options.ApplyRetentionInterval)
        {
            var retentionStarted = Stopwatch.GetTimestamp();
            try
            {
                report = ApplyRetention(now, report, cancellationToken);
                _lastRetention = now;
                _metrics.RetentionOperations.WithLabels("success").Inc();
                _metrics.RetentionLastSuccess.Set(now.ToUnixTimeMilliseconds() / 1000.0);
                _metrics.RetentionDuration.Set(Stopwatch.GetElapsedTime(retentionStarted).TotalSeconds);
            }
            catch
            {
                _metrics.RetentionOperations.WithLabels("failure").Inc();
                throw;
            }
        }

        return report with { Duration = Stopwatch.GetElapsedTime(started) };
    }

    // Retention runs in four stages; each is crash-safe on its own, and a crash between them resumes at the next run.
    private CompactionReport ApplyRetention(DateTimeOffset now, CompactionReport report,
        CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        _metrics.RetentionPeriod.Set(_policyFor(string.Empty).Period.TotalSeconds);

        var requests = ApplyDueDeleteRequests(nowMs, cancellationToken);
        var expired = ExpireChunks(nowMs * 1_000_000L, cancellationToken);
        var marked = MarkUnreferencedPacks(nowMs);
        var (deletedPacks, freed) = SweepMarkedPacks(nowMs);

        _metrics.MarkerFilesCurrent.Set(_marks.Count);
        return report with
        {
            RetentionApplied = true,
            ChunksExpired = expired,
            ChunksDeletedByRequests = requests.Chunks,
            ChunksRewritten = requests.Rewritten,
            ChunksLeftDamaged = requests.Damaged,
            LinesDeleted = requests.Lines,
            RequestsProcessed = requests.Processed,
            PacksMarked = marked,
            PacksDeleted = deletedPacks,
            BytesFreed = freed,
            PacksPending = _marks.Count,
        };
    }

    private readonly record struct DeleteRequestsApplied(int Processed, int Chunks, int Rewritten, int Damaged, long Lines);

    // 1. Delete requests past their cancellation period.
    private DeleteRequestsApplied ApplyDueDeleteRequests(long nowMs, CancellationToken cancellationToken)
    {
        int requestChunks = 0, rewritten = 0, damaged = 0, processed = 0;
        long lines = 0;
        var pendingCount = 0;
        var oldestPending = 0.0;
        foreach (var request in DeleteRequests.All())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var dueAt = request.CreatedAtMs + (long)_options.DeleteRequestCancelPeriod.TotalMilliseconds;
            if (request.Status != DeleteRequestStatus.Received || dueAt > nowMs)
            {
                continue;
            }

            pendingCount++;
            oldestPending = Math.Max(oldestPending, (nowMs - dueAt) / 1000.0);
            try
            {
                var (deleted, chunksRewritten, deletedLines, chunksDamaged) = ChunkDeleter.Apply(_store, request);
                StepHook?.Invoke("request-applied");
                DeleteRequests.MarkProcessed(request);
                requestChunks += deleted;
                rewritten += chunksRewritten;
                damaged += chunksDamaged;
                lines += deletedLines;
                processed++;
                pendingCount--;
                _metrics.DeleteRequestsProcessed.WithLabels(request.Tenant).Inc();
                _metrics.DeletedLines.WithLabels(request.Tenant).Inc(deletedLines);
                _metrics.ChunksDeleted.WithLabels("delete_request").Inc(deleted);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _metrics.DeleteProcessingFails.Inc();
                throw;
            }
        }

        _metrics.PendingDeleteRequests.Set(pendingCount);
        _metrics.OldestPendingDeleteAge.Set(pendingCount > 0 ? oldestPending : 0);
        return new DeleteRequestsApplied(processed, requestChunks, rewritten, damaged, lines);
    }

    // 2. Retention: chunks wholly older than their stream's period leave the index (tombstones, fsynced).
    private int ExpireChunks(long nowNs, CancellationToken cancellationToken)
    {
        var expired = 0;
        foreach (var tenant in _store.Tenants())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var policy = _policyFor(tenant);
            var keys = new List<(long, long)>();
            foreach (var stored in _store.ListChunks(tenant))
            {
                var period = policy.PeriodFor(stored.Labels);
                if (period > TimeSpan.Zero && stored.Chunk.Through < nowNs - (period.Ticks * 100))
                {
                    keys.Add(stored.Chunk.Key);
                }
            }

            var removed = _store.DeleteChunks(tenant, keys);
            expired += removed;
            if (removed > 0)
            {
                _metrics.MarkersCreated.WithLabels(tenant).Inc(removed);
                _metrics.ChunksDeleted.WithLabels("retention").Inc(removed);
            }
        }

        StepHook?.Invoke("index-tombstoned");
        return expired;
    }

    // 3. Mark packs nobody references any more; the marks carry when they were first seen so.
    private int MarkUnreferencedPacks(long nowMs)
    {
        var marked = 0;
        var unreferenced = new HashSet<(string, string)>();
        foreach (var tenant in _store.Tenants())
        {
            foreach (var pack in _store.UnreferencedPacks(tenant))
            {
                unreferenced.Add((tenant, pack.MarkName));
                if (_marks.Mark(tenant, pack.MarkName, nowMs))
                {
                    marked++;
                }
            }
        }

        foreach (var key in _marks.Entries.Keys.ToList())
        {
            if (!unreferenced.Contains(key))
            {
                // Already deleted (a crash after the delete, before the marks were saved).
                _marks.Remove(key.Tenant, key.Pack);
            }
        }

        _marks.Save();
        StepHook?.Invoke("marks-written");
        return marked;
    }

    // 4. Sweep packs whose delay has passed. Each deletion re-checks that the pack is unreferenced.
    private (int Packs, long Bytes) SweepMarkedPacks(long nowMs)
    {
        var delayMs = (long)_options.RetentionDeleteDelay.TotalMilliseconds;
        int deletedPacks = 0;
        long freed = 0;
        foreach (var ((tenant, pack), markedAt) in _marks.Entries.ToList())
        {
            if (markedAt + delayMs > nowMs)
            {
                continue;
            }

            var deleteStarted = Stopwatch.GetTimestamp();
            var bytes = _store.DeletePackIfUnreferenced(tenant, pack);
            _metrics.ChunkDeleteDuration.WithLabels("success").Observe(Stopwatch.GetElapsedTime(deleteStarted).TotalSeconds);
            _marks.Remove(tenant, pack);
            if (bytes > 0)
            {
                deletedPacks++;
                freed += bytes;
                _metrics.BytesFreed.Inc(bytes);
            }

            StepHook?.Invoke("pack-deleted");
        }

        if (deletedPacks > 0)
        {
            _marks.Save();
        }

        return (deletedPacks, freed);
    }
}
