using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using LokiSharp.Ingester.Distribution;
using LokiSharp.Ingester.Head;
using LokiSharp.Ingester.Limits;
using LokiSharp.Ingester.Push;
using LokiSharp.Ingester.Tail;
using LokiSharp.Ingester.Wal;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Text;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;
using LokiSharp.Storage.Store;

namespace LokiSharp.Ingester;

/// <summary>Why a chunk was flushed, as Loki labels <c>loki_ingester_chunks_flushed_total</c>.</summary>
public enum FlushReason
{
    Full,
    Idle,
    MaxAge,
    Forced,
}

/// <summary>What a push wrote and what it refused.</summary>
/// <param name="StatusCode">204 when everything was accepted, else Loki's 400 or 429.</param>
/// <param name="Message">The error text for a non-204 answer.</param>
public readonly record struct PushOutcome(int StatusCode, string Message);

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

    // Head blocks compress their tail on the appending thread; ChunkBuilder is not thread-safe, so each append borrows one.
    private readonly ChunkBuilderPool _builders;
    private readonly int _partSize;
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
    }

    /// <summary>Problems met while replaying the WAL, for the start-up log.</summary>
    public List<WalDamage> ReplayDamage { get; } = [];

    /// <summary>Entries restored from the WAL at start.</summary>
    public long ReplayedEntries { get; private set; }

    /// <summary>Live tails: notified of every durable push.</summary>
    public TailBroadcaster Tail { get; } = new();

    /// <summary>Raised when a periodic flush fails (disk full, I/O error); it is retried on the next tick.</summary>
    public event Action<Exception>? FlushFailed;

    /// <summary>Unflushed bytes held in memory.</summary>
    public long HeadBytes => Interlocked.Read(ref _headBytes);

    /// <summary>Replays the WAL into the head, then starts logging and the periodic flush.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.WalEnabled)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            _wal = WriteAheadLog.Open(_options.WalDirectory, _options.WalSegmentSize);
            var flushed = new Dictionary<(string, string), HashSet<long>>();
            _wal.Replay((_, record) => CollectFlushed(record, flushed), ReplayDamage);
            _wal.Start();
            var parsedLabels = new Dictionary<string, LabelSet>(StringComparer.Ordinal);
            _replaying = true;
            try
            {
                // The framing damage was reported by the first pass; this one adds records whose content is unreadable.
                var damage = new List<WalDamage>();
                _wal.Replay((segment, record) => ReplayEntries(segment, record, flushed, parsedLabels), damage);
                ReplayDamage.AddRange(damage.Where(d => !ReplayDamage.Exists(known => known.Segment == d.Segment && known.Offset == d.Offset)));
            }
            finally
            {
                _replaying = false;
            }
            foreach (var damage in ReplayDamage)
            {
                _metrics.WalCorruptions.WithLabels(damage.Truncated ? "torn_tail" : "corrupt").Inc();
            }

            _metrics.WalReplayDuration.Set(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
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

    /// <summary>Validates and writes a decoded push for <paramref name="tenant"/>; completes once it is durable.</summary>
    public async Task<PushOutcome> PushAsync(string tenant, PushBatch batch, CancellationToken cancellationToken)
    {
        if (batch.Streams.Count == 0)
        {
            throw new PushRequestException(422, "error at least one valid stream is required for ingestion");
        }

        var limits = _limits.For(tenant);
        var validated = _validator.Validate(tenant, batch, limits);
        if (validated.Streams.Count == 0)
        {
            return validated.Errors.Any ? new PushOutcome(400, validated.Errors.ToString()) : new PushOutcome(204, "");
        }

        var now = _time.GetUtcNow().UtcTicks;
        var tenantRate = _tenantRates.GetOrAdd(tenant, static _ => new TokenBucket());
        bool allowed;
        lock (tenantRate)
        {
            allowed = tenantRate.TryTake(validated.Bytes, limits.IngestionRateBytes, limits.IngestionBurstBytes, now);
        }

        if (!allowed)
        {
            _metrics.Discard("rate_limited", tenant, limits.RetentionHours, batch.Format, validated.Lines, validated.Bytes);
            throw new PushRequestException(429,
                $"ingestion rate limit exceeded for user {tenant} (limit: {(long)limits.IngestionRateBytes} bytes/sec) while attempting to ingest '{validated.Lines}' lines totaling '{validated.Bytes}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased");
        }

        if (HeadBytes + validated.Bytes > _options.MaxHeadBytes)
        {
            _metrics.Discard("rate_limited", tenant, limits.RetentionHours, batch.Format, validated.Lines, validated.Bytes);
            throw new PushRequestException(429,
                $"ingester memory limit reached: {HeadBytes} bytes of unflushed logs held (limit {_options.MaxHeadBytes} bytes); retry later or raise the limit");
        }

        _metrics.BytesReceived.WithLabels(tenant, limits.RetentionHours, "false", "", batch.Format).Inc(validated.Bytes);
        _metrics.LinesReceived.WithLabels(tenant, "false", "", batch.Format).Inc(validated.Lines);

        var recordId = Interlocked.Increment(ref _recordId);
        var accepted = new List<(HeadStream Stream, Admitted Entries)>(validated.Streams.Count);
        var errors = validated.Errors;
        var status = 400;
        var tooManyRequests = false;
        foreach (var stream in validated.Streams)
        {
            var head = GetOrCreateStream(tenant, stream.Labels, limits, out var limitError);
            if (head is null)
            {
                errors.Add(limitError!);
                tooManyRequests = true;
                _metrics.Discard("stream_limit", tenant, limits.RetentionHours, batch.Format, stream.Entries.Count, stream.Bytes);
                continue;
            }

            var (admitted, streamError, rateLimited) = Admit(head, stream, batch, limits, now);
            if (streamError is not null)
            {
                errors.Add(streamError);
                tooManyRequests |= rateLimited;
            }

            if (admitted.Entries.Count > 0)
            {
                accepted.Add((head, admitted));
            }
        }

        if (accepted.Count > 0)
        {
            // Entries reach the head only once their record is durable: a push that fails here leaves nothing a
            // query could see or a flush could store, so the client's retry does not duplicate it.
            try
            {
                var walSegment = _wal is null ? 0 : await LogAsync(tenant, recordId, accepted, batch).ConfigureAwait(false);
                foreach (var (head, admitted) in accepted)
                {
                    Apply(head, admitted, batch, recordId, walSegment, now);
                }
            }
            finally
            {
                _inFlight.TryRemove(recordId, out _);
            }
        }

        if (accepted.Count > 0 && Tail.Wants(tenant))
        {
            PublishToTails(tenant, accepted, batch);
        }

        if (tooManyRequests)
        {
            status = 429;
        }

        return errors.Any ? new PushOutcome(status, errors.ToString()) : new PushOutcome(204, "");
    }

    // Writes the push's WAL record and waits for its commit; returns the segment it went to. Until the entries
    // are in the head the record's segment is held in _inFlight (released by the caller once they are), so a flush
    // racing with the push keeps it.
    private async Task<long> LogAsync(string tenant, long recordId, List<(HeadStream Stream, Admitted Entries)> accepted, PushBatch batch)
    {
        // Sized for the framing too (timestamp and length varints, metadata counts, one label text per stream), so the
        // record is written into one buffer and not regrown half way.
        long bytes = 0, lines = 0;
        foreach (var (_, admitted) in accepted)
        {
            bytes += admitted.Bytes;
            lines += admitted.Entries.Count;
        }

        var recordCapacity = bytes + (lines * 24) + (accepted.Count * 256L) + 256;
        using var record = new PooledBufferWriter(checked((int)Math.Min(int.MaxValue, recordCapacity)), PushBuffers.Pool);
        WalRecord.BeginEntries(record, recordId, tenant, accepted.Count);
        foreach (var (head, admitted) in accepted)
        {
            WalRecord.BeginStream(record, head.LabelsText, admitted.Entries.Count);
            foreach (var entry in admitted.Entries)
            {
                var line = batch.Bytes(entry.LineStart, entry.LineLength);
                if (PushValidator.SharedEncoding(entry.Metadata) is { } shared)
                {
                    WalRecord.WriteEntry(record, entry.TimestampNs, line, shared);
                }
                else
                {
                    WalRecord.WriteEntry(record, entry.TimestampNs, line, entry.Metadata);
                }
            }
        }

        _inFlight[recordId] = _wal!.CurrentSegment;
        try
        {
            var segment = await _wal.AppendAsync(record.WrittenMemory).ConfigureAwait(false);
            _metrics.WalRecords.Inc();
            _metrics.WalLoggedBytes.Inc(record.WrittenCount);
            return segment;
        }
        catch (IOException e)
        {
            _metrics.WalFailedCommits.Inc();
            throw new PushRequestException(500, e.Message, e);
        }
        catch (ObjectDisposedException)
        {
            throw new PushRequestException(503, "Ingester is stopping or already stopped.");
        }
    }

    private void PublishToTails(string tenant, List<(HeadStream Stream, Admitted Entries)> accepted, PushBatch batch)
    {
        foreach (var (head, admitted) in accepted)
        {
            var entries = admitted.Entries;
            var copies = new PushedEntry[entries.Count];
            for (var i = 0; i < copies.Length; i++)
            {
                var entry = entries[i];
                copies[i] = new PushedEntry(entry.TimestampNs, Encoding.UTF8.GetString(batch.Bytes(entry.LineStart, entry.LineLength)), entry.Metadata);
            }

            Tail.Publish(tenant, head.Labels, copies);
        }
    }

    /// <summary>Cuts the blocks that are due (all of them when <paramref name="force"/>) and stores them.</summary>
    public async Task FlushAsync(bool force, CancellationToken cancellationToken)
    {
        await _flushLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _time.GetUtcNow().UtcTicks;
            var cutBytes = (long)(_options.ChunkTargetSize * _options.AssumedCompressionRatio);
            foreach (var (tenant, streams) in _tenants)
            {
                var writes = new List<(HeadStream Stream, HeadBlock Block, FlushReason Reason)>();
                foreach (var stream in streams.Values)
                {
                    lock (stream.Sync)
                    {
                        var open = stream.Open;
                        if (!open.IsEmpty)
                        {
                            FlushReason? reason = force ? FlushReason.Forced
                                : open.RawBytes >= cutBytes ? FlushReason.Full
                                : now - open.CreatedAt >= _options.MaxChunkAge.Ticks ? FlushReason.MaxAge
                                : now - stream.LastAppendAt >= _options.ChunkIdlePeriod.Ticks ? FlushReason.Idle
                                : null;
                            if (reason is { } due)
                            {
                                var builder = _builders.Rent();
                                try
                                {
                                    open.Seal(builder);
                                }
                                finally
                                {
                                    _builders.Return(builder);
                                }

                                stream.Sealed.Add(open);
                                stream.Open = stream.NewBlock();
                                _metrics.ChunksCreated.Inc();
                                writes.Add((stream, open, due));
                            }
                        }
                    }
                }

                // Blocks sealed as "full" during a push are stored here too.
                foreach (var stream in streams.Values)
                {
                    lock (stream.Sync)
                    {
                        foreach (var block in stream.Sealed)
                        {
                            if (!writes.Exists(w => ReferenceEquals(w.Block, block)))
                            {
                                writes.Add((stream, block, FlushReason.Full));
                            }
                        }
                    }
                }

                if (writes.Count > 0)
                {
                    await StoreAsync(tenant, writes, now).ConfigureAwait(false);
                }

                RemoveIdleStreams(tenant, streams, now);
            }

            await DropFlushedSegmentsAsync().ConfigureAwait(false);
        }
        finally
        {
            _flushLock.Release();
        }
    }

    /// <summary>
    /// Copies the WAL (into <paramref name="walDestination"/>) and the chunk store (into
    /// <paramref name="storeDestination"/>) as they stand, with flushes held back meanwhile, so every entry
    /// acknowledged before the call is in one or the other and no WAL segment it needs is dropped half way.
    /// Returns the bytes copied rather than linked.
    /// </summary>
    public async Task<long> SnapshotAsync(string walDestination, string storeDestination, CancellationToken cancellationToken)
    {
        await _flushLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long copied = 0;
            if (_wal is not null)
            {
                Directory.CreateDirectory(walDestination);
                copied += _wal.SnapshotTo(walDestination);
            }

            Directory.CreateDirectory(storeDestination);
            return copied + _store.SnapshotTo(storeDestination);
        }
        finally
        {
            _flushLock.Release();
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<SelectedStream> SelectStreams(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var selected = new List<SelectedStream>();
        if (!_tenants.TryGetValue(tenant, out var streams))
        {
            return selected;
        }

        foreach (var stream in streams.Values)
        {
            if (!Matches(stream.Labels, matchers))
            {
                continue;
            }

            (long Min, long Max) range;
            lock (stream.Sync)
            {
                range = stream.TimeRange();
            }

            if (range.Max >= from && range.Min < through)
            {
                selected.Add(new SelectedStream(stream.Labels, stream.Fingerprint));
            }
        }

        return selected;
    }

    /// <inheritdoc />
    public IEntryIterator OpenEntries(string tenant, SelectedStream stream, in EntryQuery query)
    {
        if (!_tenants.TryGetValue(tenant, out var streams) || !streams.TryGetValue(stream.Labels, out var head))
        {
            return new HeadEntryIterator([]);
        }

        var parts = new List<ReadOnlyMemory<byte>>();
        var tail = new List<HeadEntry>();
        lock (head.Sync)
        {
            foreach (var block in head.Sealed)
            {
                block.Snapshot(query.From, query.Through, query.Filter, parts, tail);
            }

            head.Open.Snapshot(query.From, query.Through, query.Filter, parts, tail);
        }

        var entries = tail.ToArray();
        if (!InTimeOrder(entries))
        {
            Array.Sort(entries, static (a, b) => a.Timestamp != b.Timestamp ? a.Timestamp.CompareTo(b.Timestamp) : a.Sequence.CompareTo(b.Sequence));
        }
        if (query.Direction == Direction.Backward)
        {
            Array.Reverse(entries);
        }

        var recent = new HeadEntryIterator(entries);
        return parts.Count == 0 ? recent : new MergedEntryIterator(ChunkEntryReader.Open(parts, query), recent, query.Direction);
    }

    // Tails fed by one client at a time arrive in order; checking costs a fraction of sorting.
    private static bool InTimeOrder(HeadEntry[] entries)
    {
        for (var i = 1; i < entries.Length; i++)
        {
            var (previous, current) = (entries[i - 1], entries[i]);
            if (current.Timestamp < previous.Timestamp || (current.Timestamp == previous.Timestamp && current.Sequence < previous.Sequence))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> LabelNames(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var stream in SelectStreams(tenant, matchers, from, through))
        {
            foreach (var pair in stream.Labels)
            {
                names.Add(pair.Name);
            }
        }

        return names;
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> LabelValues(string tenant, string name, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var values = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var stream in SelectStreams(tenant, matchers, from, through))
        {
            if (stream.Labels.Get(name) is { } value)
            {
                values.Add(value);
            }
        }

        return values;
    }

    /// <inheritdoc />
    public IndexStats Stats(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        long streamsCount = 0, chunks = 0, bytes = 0, entries = 0;
        foreach (var selected in SelectStreams(tenant, matchers, from, through))
        {
            if (!_tenants[tenant].TryGetValue(selected.Labels, out var stream))
            {
                continue;
            }

            streamsCount++;
            lock (stream.Sync)
            {
                foreach (var block in stream.Sealed.Append(stream.Open))
                {
                    if (!block.IsEmpty)
                    {
                        chunks++;
                        bytes += block.RawBytes;
                        entries += block.EntryCount;
                    }
                }
            }
        }

        return new IndexStats(streamsCount, chunks, bytes, entries);
    }

    /// <inheritdoc />
    public IReadOnlyList<SeriesVolume> Volumes(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var volumes = new List<SeriesVolume>();
        foreach (var selected in SelectStreams(tenant, matchers, from, through))
        {
            if (_tenants[tenant].TryGetValue(selected.Labels, out var stream))
            {
                long bytes = 0;
                lock (stream.Sync)
                {
                    foreach (var block in stream.Sealed.Append(stream.Open))
                    {
                        bytes += block.RawBytes;
                    }
                }

                volumes.Add(new SeriesVolume(stream.Labels, bytes));
            }
        }

        return volumes;
    }

    /// <summary>Active streams of a tenant in memory.</summary>
    public int StreamCount(string tenant) => _tenants.TryGetValue(tenant, out var streams) ? streams.Count : 0;

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
    }

    private static bool Matches(LabelSet labels, IReadOnlyList<LabelMatcher> matchers)
    {
        foreach (var matcher in matchers)
        {
            if (!matcher.Matches(labels.Get(matcher.Name) ?? ""))
            {
                return false;
            }
        }

        return true;
    }

    private HeadStream? GetOrCreateStream(string tenant, LabelSet labels, IngestionLimits limits, out string? error)
    {
        error = null;
        var streams = _tenants.GetOrAdd(tenant, static _ => new ConcurrentDictionary<LabelSet, HeadStream>());
        if (streams.TryGetValue(labels, out var existing))
        {
            return existing;
        }

        var limit = limits.StreamLimit;
        if (limit > 0 && streams.Count >= limit)
        {
            error = $"maximum active stream limit exceeded when trying to create stream {labels}, reduce the number of active streams (reduce labels or reduce label values), or contact your Loki administrator to see if the limit can be increased, user: '{tenant}'";
            return null;
        }

        var created = new HeadStream(labels, Fingerprint.Of(labels), tenant, _partSize);
        var stream = streams.GetOrAdd(labels, created);
        if (ReferenceEquals(stream, created))
        {
            _metrics.StreamsCreated.WithLabels(tenant).Inc();
            _metrics.MemoryStreams.WithLabels(tenant).Inc();
        }

        return stream;
    }

    // Decides which of a stream's entries the push accepts (resends, too-old entries and rate limits are
    // refused here), without touching the head: the entries are applied once the WAL holds them.
    private (Admitted Admitted, string? Error, bool RateLimited) Admit(HeadStream stream, ValidatedStream validated,
        PushBatch batch, IngestionLimits limits, long now)
    {
        // Usually every entry is accepted and the validated list serves as is; it is copied from the first drop on.
        List<ValidatedEntry>? kept = null;
        List<(long Timestamp, string Reason)>? failures = null;
        List<ValidatedEntry> accepted;
        long acceptedBytes = 0;
        lock (stream.Sync)
        {
            var highest = stream.HighestTimestamp;
            var window = _options.MaxChunkAge.Ticks * 100 / 2;

            // The previous accepted entry, for Loki's silent drop of an exact resend: from an earlier push it is
            // kept as copies; within this push it is referenced in the batch, so nothing is copied per entry.
            var previousTimestamp = stream.LastEntry?.Timestamp ?? long.MinValue;
            ValidatedEntry? previousInBatch = null;
            var entries = validated.Entries;
            for (var i = 0; i < entries.Count; i++)
            {
                var entry = entries[i];
                var line = batch.Bytes(entry.LineStart, entry.LineLength);
                if (entry.TimestampNs == previousTimestamp && IsResend(stream, batch, previousInBatch, entry, line))
                {
                    kept ??= entries.GetRange(0, i);
                    continue;
                }

                var cutoff = highest - window;
                if (highest != long.MinValue && entry.TimestampNs < cutoff)
                {
                    (failures ??= []).Add((entry.TimestampNs,
                        $"entry too far behind, entry timestamp is: {GoTimestamp.FormatRfc3339(entry.TimestampNs)}, oldest acceptable timestamp is: {GoTimestamp.FormatRfc3339(cutoff)}"));
                    _metrics.Discard("too_far_behind", stream.Tenant, limits.RetentionHours, batch.Format, 1, entry.LineLength);
                    kept ??= entries.GetRange(0, i);
                    continue;
                }

                kept?.Add(entry);
                acceptedBytes += entry.LineLength;
                highest = Math.Max(highest, entry.TimestampNs);
                previousTimestamp = entry.TimestampNs;
                previousInBatch = entry;
            }

            accepted = kept ?? entries;
            if (accepted.Count > 0 && !stream.RateLimiter.TryTake(acceptedBytes, limits.PerStreamRateLimit, limits.PerStreamRateLimitBurst, now))
            {
                // Loki rate-limits a stream's push as a whole.
                failures ??= [];
                foreach (var entry in accepted)
                {
                    failures.Add((entry.TimestampNs,
                        $"Per stream rate limit exceeded (limit: {HumanSize(limits.PerStreamRateLimit)}/sec) while attempting to ingest for stream '{stream.LabelsText}' totaling {HumanSize(entry.LineLength)}, consider splitting a stream via additional labels or contact your Loki administrator to see if the limit can be increased"));
                }

                _metrics.Discard("per_stream_rate_limit", stream.Tenant, limits.RetentionHours, batch.Format, accepted.Count, acceptedBytes);
                return (new Admitted([], 0, highest, null), FailureMessage(stream, failures, validated.Entries.Count), true);
            }

            // The stream counts as active from here: a flush while the WAL commit runs must not forget it as idle
            // and empty, or the entries would be applied to a stream no query finds.
            if (accepted.Count > 0)
            {
                stream.LastAppendAt = now;
            }

            var admitted = new Admitted(accepted, acceptedBytes, highest, previousInBatch);
            return (admitted, failures is { Count: > 0 } ? FailureMessage(stream, failures, validated.Entries.Count) : null, false);
        }
    }

    // Appends admitted entries, now durable in the WAL, to the stream's open block.
    private void Apply(HeadStream stream, Admitted admitted, PushBatch batch, long recordId, long walSegment, long now)
    {
        lock (stream.Sync)
        {
            var builder = _builders.Rent();
            try
            {
                foreach (var entry in admitted.Entries)
                {
                    var line = batch.Bytes(entry.LineStart, entry.LineLength);
                    if (PushValidator.SharedEncoding(entry.Metadata) is { } shared)
                    {
                        stream.Open.AppendEncoded(entry.TimestampNs, line, shared, recordId, walSegment, now, builder);
                    }
                    else
                    {
                        stream.Open.Append(entry.TimestampNs, line, entry.Metadata, recordId, walSegment, now, builder);
                    }
                }

                if (stream.Open.RawBytes >= (long)(_options.ChunkTargetSize * _options.AssumedCompressionRatio))
                {
                    stream.Open.Seal(builder);
                    stream.Sealed.Add(stream.Open);
                    stream.Open = stream.NewBlock();
                    _metrics.ChunksCreated.Inc();
                }
            }
            finally
            {
                _builders.Return(builder);
            }

            // A concurrent push to the stream may have been applied in between; the highest timestamp only grows.
            stream.HighestTimestamp = Math.Max(stream.HighestTimestamp, admitted.Highest);
            if (admitted.Newest is { } newest)
            {
                stream.LastEntry = (newest.TimestampNs, batch.Bytes(newest.LineStart, newest.LineLength).ToArray(), EncodedMetadata(newest.Metadata));
            }

            stream.LastAppendAt = now;
        }

        Interlocked.Add(ref _headBytes, admitted.Bytes);
    }

    // A stream's entries accepted by a push: their raw bytes, the highest timestamp, and the newest entry (for
    // the next push's resend check).
    private readonly record struct Admitted(List<ValidatedEntry> Entries, long Bytes, long Highest, ValidatedEntry? Newest);

    private static bool IsResend(HeadStream stream, PushBatch batch, ValidatedEntry? previousInBatch, ValidatedEntry entry, ReadOnlySpan<byte> line)
    {
        if (previousInBatch is { } previous)
        {
            return line.SequenceEqual(batch.Bytes(previous.LineStart, previous.LineLength))
                && previous.Metadata.AsSpan().SequenceEqual(entry.Metadata);
        }

        return stream.LastEntry is { } last && line.SequenceEqual(last.Line) && EncodedMetadata(entry.Metadata).AsSpan().SequenceEqual(last.Metadata);
    }

    // Loki's ingester answer for rejected entries of one stream: one line per entry (up to a limit), then a summary.
    private string FailureMessage(HeadStream stream, List<(long Timestamp, string Reason)> failures, int total)
    {
        var sb = new StringBuilder();
        var shown = _options.MaxReturnedStreamErrors > 0 ? Math.Min(failures.Count, _options.MaxReturnedStreamErrors) : failures.Count;
        for (var i = 0; i < shown; i++)
        {
            sb.Append("entry with timestamp ").Append(GoTimestamp.FormatGoString(failures[i].Timestamp)).Append(" ignored, reason: '").Append(failures[i].Reason).Append("',\n");
        }

        sb.Append("user '").Append(stream.Tenant).Append("', total ignored: ").Append(failures.Count).Append(" out of ").Append(total)
            .Append(" for stream: ").Append(stream.LabelsText);
        return sb.ToString();
    }

    private static string HumanSize(long bytes) => bytes switch
    {
        >= 1 << 30 when bytes % (1 << 30) == 0 => (bytes >> 30).ToString(CultureInfo.InvariantCulture) + "GB",
        >= 1 << 20 when bytes % (1 << 20) == 0 => (bytes >> 20).ToString(CultureInfo.InvariantCulture) + "MB",
        >= 1 << 10 when bytes % (1 << 10) == 0 => (bytes >> 10).ToString(CultureInfo.InvariantCulture) + "KB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + "B",
    };

    private static byte[] EncodedMetadata(LabelPair[] metadata)
    {
        if (PushValidator.SharedEncoding(metadata) is { } shared)
        {
            return shared;
        }

        var writer = new ArrayBufferWriter<byte>(16);
        StructuredMetadata.Encode(writer, metadata);
        return writer.WrittenSpan.ToArray();
    }

    private async Task StoreAsync(string tenant, List<(HeadStream Stream, HeadBlock Block, FlushReason Reason)> writes, long now)
    {
        // The head already holds each block as compressed one-block chunks; they are stored as they are.
        var chunks = new List<ChunkWrite>(writes.Count);
        foreach (var (stream, block, _) in writes)
        {
            foreach (var part in block.Parts)
            {
                chunks.Add(new ChunkWrite(stream.Labels, part.Chunk, part.Summary));
            }
        }

        _store.Write(tenant, chunks);

        if (_wal is not null)
        {
            var markers = new List<Task>(writes.Count);
            foreach (var (stream, block, _) in writes)
            {
                if (block.RecordIds.Count == 0)
                {
                    continue;
                }

                var marker = new ArrayBufferWriter<byte>(64 + (block.RecordIds.Count * 4));
                WalRecord.WriteFlushed(marker, tenant, stream.LabelsText, block.RecordIds);
                markers.Add(_wal.AppendAsync(marker.WrittenMemory));
            }

            await Task.WhenAll(markers).ConfigureAwait(false);
        }

        foreach (var (stream, block, reason) in writes)
        {
            lock (stream.Sync)
            {
                stream.Sealed.Remove(block);
            }

            Interlocked.Add(ref _headBytes, -block.RawBytes);
            foreach (var part in block.Parts)
            {
                _metrics.ChunksFlushed.WithLabels(ReasonLabel(reason)).Inc();
                _metrics.ChunkEntries.Observe(part.Entries);
                _metrics.ChunkSize.Observe(part.Chunk.Length);
                _metrics.ChunkAge.Observe(TimeSpan.FromTicks(Math.Max(0, now - block.CreatedAt)).TotalSeconds);
                _metrics.ChunkUtilization.Observe(Math.Min(1, part.Chunk.Length / (double)_options.ChunkTargetSize));
            }
        }
    }

    private static string ReasonLabel(FlushReason reason) => reason switch
    {
        FlushReason.Full => "full",
        FlushReason.Idle => "idle",
        FlushReason.MaxAge => "max_age",
        _ => "forced",
    };

    private void RemoveIdleStreams(string tenant, ConcurrentDictionary<LabelSet, HeadStream> streams, long now)
    {
        foreach (var (labels, stream) in streams)
        {
            lock (stream.Sync)
            {
                // Keep a stream that may still receive writes; an idle, empty one is forgotten as in Loki.
                if (!stream.IsEmpty || now - stream.LastAppendAt < _options.ChunkIdlePeriod.Ticks)
                {
                    continue;
                }

                streams.TryRemove(labels, out _);
            }

            _metrics.StreamsRemoved.WithLabels(tenant).Inc();
            _metrics.MemoryStreams.WithLabels(tenant).Dec();
        }
    }

    private async Task DropFlushedSegmentsAsync()
    {
        if (_wal is null || _replaying)
        {
            return;
        }

        // When nothing in the head comes from the current segment, close it so it can go too. A push racing
        // with this logs to the new segment (its record is enqueued after the roll) or shows up in the head
        // with the old segment when the oldest is taken below, which then keeps that segment.
        if (OldestUnflushedSegment(_wal.CurrentSegment) >= _wal.CurrentSegment)
        {
            await _wal.RollAsync().ConfigureAwait(false);
        }

        _wal.DropSegmentsBefore(OldestUnflushedSegment(_wal.CurrentSegment));
    }

    private long OldestUnflushedSegment(long current)
    {
        var oldest = current;
        foreach (var (_, segment) in _inFlight)
        {
            oldest = Math.Min(oldest, segment);
        }

        foreach (var streams in _tenants.Values)
        {
            foreach (var stream in streams.Values)
            {
                lock (stream.Sync)
                {
                    oldest = Math.Min(oldest, stream.Open.OldestWalSegment);
                    foreach (var block in stream.Sealed)
                    {
                        oldest = Math.Min(oldest, block.OldestWalSegment);
                    }
                }
            }
        }

        return oldest;
    }

    private async Task FlushLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.FlushCheckPeriod, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await FlushAsync(force: false, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The blocks stay in memory and in the WAL and nothing of them is dropped; the next tick
                    // retries. Any failure, not only I/O, must leave the loop running.
                    _metrics.FlushFailures.Inc();
                    FlushFailed?.Invoke(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    private static void CollectFlushed(ReadOnlySpan<byte> record, Dictionary<(string, string), HashSet<long>> flushed)
    {
        var reader = new WalRecord.Reader(record);
        if (reader.ReadKind() != WalRecord.FlushedKind)
        {
            return;
        }

        var tenant = reader.ReadString();
        var labels = reader.ReadString();
        var count = reader.ReadVarint();
        if (!flushed.TryGetValue((tenant, labels), out var ids))
        {
            flushed[(tenant, labels)] = ids = [];
        }

        for (var i = 0; i < count; i++)
        {
            ids.Add(reader.ReadVarint());
        }
    }

    private void ReplayEntries(long segment, ReadOnlySpan<byte> record, Dictionary<(string, string), HashSet<long>> flushed,
        Dictionary<string, LabelSet> parsedLabels)
    {
        var reader = new WalRecord.Reader(record);
        if (reader.ReadKind() != WalRecord.EntriesKind)
        {
            return;
        }

        var recordId = reader.ReadVarint();
        _recordId = Math.Max(_recordId, recordId);
        var tenant = reader.ReadString();
        var streamCount = reader.ReadVarint();
        var now = _time.GetUtcNow().UtcTicks;
        for (var s = 0; s < streamCount; s++)
        {
            var labelsText = reader.ReadString();
            var entryCount = reader.ReadVarint();
            if (flushed.TryGetValue((tenant, labelsText), out var ids) && ids.Contains(recordId))
            {
                for (var e = 0; e < entryCount; e++)
                {
                    reader.ReadVarint();
                    reader.ReadBytes();
                    reader.ReadMetadata();
                }

                continue;
            }

            // A stream's label text repeats in every record: parse it once per replay.
            if (!parsedLabels.TryGetValue(labelsText, out var labels))
            {
                try
                {
                    parsedLabels[labelsText] = labels = LokiSharp.LogQL.Syntax.LabelSetParser.Parse(labelsText);
                }
                catch (LokiSharp.LogQL.Syntax.LogQLParseException e)
                {
                    throw new InvalidDataException("malformed WAL record: stream labels: " + e.Message, e);
                }
            }

            var streams = _tenants.GetOrAdd(tenant, static _ => new ConcurrentDictionary<LabelSet, HeadStream>());
            if (!streams.TryGetValue(labels, out var stream))
            {
                stream = streams.GetOrAdd(labels, new HeadStream(labels, Fingerprint.Of(labels), tenant, _partSize));
                _metrics.StreamsCreated.WithLabels(tenant).Inc();
                _metrics.MemoryStreams.WithLabels(tenant).Inc();
            }

            if (entryCount == 0)
            {
                continue;
            }

            long bytes = 0;
            var builder = _builders.Rent();
            lock (stream.Sync)
            {
                var highest = stream.HighestTimestamp;
                long timestamp = 0;
                ReadOnlySpan<byte> line = default;
                ReadOnlySpan<byte> metadata = default;
                for (var e = 0; e < entryCount; e++)
                {
                    timestamp = reader.ReadVarint();
                    line = reader.ReadBytes();
                    metadata = reader.ReadMetadata();
                    stream.Open.AppendEncoded(timestamp, line, metadata, recordId, segment, now, builder);
                    highest = Math.Max(highest, timestamp);
                    bytes += line.Length + metadata.Length;
                }

                // Only the stream's last entry is kept for the resend check, not a copy of every one.
                stream.HighestTimestamp = highest;
                stream.LastEntry = (timestamp, line.ToArray(), metadata.ToArray());
                stream.LastAppendAt = now;
                if (stream.Open.RawBytes >= (long)(_options.ChunkTargetSize * _options.AssumedCompressionRatio))
                {
                    stream.Open.Seal(builder);
                    stream.Sealed.Add(stream.Open);
                    stream.Open = stream.NewBlock();
                    _metrics.ChunksCreated.Inc();
                }
            }

            _builders.Return(builder);
            Interlocked.Add(ref _headBytes, bytes);
            ReplayedEntries += entryCount;
        }

        // Memory stays bounded by the head size, not by the WAL's: store what replay has gathered so far.
        if (HeadBytes > _options.MaxHeadBytes / 2)
        {
            FlushAsync(force: true, CancellationToken.None).GetAwaiter().GetResult();
        }
    }
}
