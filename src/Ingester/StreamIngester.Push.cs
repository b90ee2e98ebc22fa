using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
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

namespace LokiSharp.Ingester;

/// <content>
/// The write path: a push is admitted (validation, limits, resends), committed to the WAL, then applied to the head.
/// </content>
public sealed partial class StreamIngester
{
    /// <summary>Validates and writes a decoded push for <paramref name="tenant"/>; completes once it is durable.</summary>
    public async Task<PushOutcome> PushAsync(string tenant, PushBatch batch, CancellationToken cancellationToken)
    {
        if (batch.Streams.Count == 0)
        {
            throw new PushRequestException(422, "error at least one valid stream is required for ingestion");
        }

        var limits = _limits.For(tenant);
        var validated = _validator.Validate(tenant, batch, limits);
        try
        {
            return await PushValidatedAsync(tenant, batch, limits, validated).ConfigureAwait(false);
        }
        finally
        {
            // Nothing of the validated push is referred to past this point (tails get copies): its lists are reused.
            _validator.Return(validated);
        }
    }

    private async Task<PushOutcome> PushValidatedAsync(string tenant, PushBatch batch, IngestionLimits limits, ValidatedPush validated)
    {
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
                $"ingestion rate limit exceeded for user {tenant} (limit: {(long)limits.IngestionRateBytes} bytes/sec) " +
                $"while attempting to ingest '{validated.Lines}' lines totaling '{validated.Bytes}' bytes, " +
                $"reduce log volume or contact your Loki administrator to see if the limit can be increased");
        }

        if (HeadBytes + validated.Bytes > _options.MaxHeadBytes)
        {
            _metrics.Discard("rate_limited", tenant, limits.RetentionHours, batch.Format, validated.Lines, validated.Bytes);
            throw new PushRequestException(429,
                $"ingester memory limit reached: {HeadBytes} bytes of unflushed logs held (limit {_options.MaxHeadBytes} bytes); " +
                $"retry later or raise the limit");
        }

        _metrics.BytesReceived.WithLabels(tenant, limits.RetentionHours, "false", "", batch.Format).Inc(validated.Bytes);
        _metrics.LinesReceived.WithLabels(tenant, "false", "", batch.Format).Inc(validated.Lines);

        var recordId = Interlocked.Increment(ref _recordId);
        var accepted = _spareAccepted.Take() ?? new List<(HeadStream Stream, Admitted Entries)>(validated.Streams.Count);
        var errors = validated.Errors;
        var status = 400;
        var tooManyRequests = false;
        foreach (var stream in validated.Streams)
        {
            var (head, admission, limitError) = LookUpAndAdmit(tenant, stream, batch, limits, now);
            if (head is null)
            {
                errors.Add(limitError!);
                tooManyRequests = true;
                _metrics.Discard("stream_limit", tenant, limits.RetentionHours, batch.Format, stream.Entries.Count, stream.Bytes);
                continue;
            }

            var (admitted, streamError, rateLimited) = admission;
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
                if (_wal is null)
                {
                    ApplyAll(accepted, batch, recordId, 0, now);
                }
                else
                {
                    // On the WAL's commit thread, right after the fsync (WriteAheadLog.AppendAsync's remarks say why).
                    await LogAsync(tenant, recordId, accepted, batch, segment => ApplyAll(accepted, batch, recordId, segment, now)).ConfigureAwait(false);
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

        // The WAL's commit thread is done with the list (it reads it only before the push completes); one that failed is
        // left to the GC.
        accepted.Clear();
        if (accepted.Capacity <= MaxSpareAccepted)
        {
            _spareAccepted.Give(accepted);
        }

        return errors.Any ? new PushOutcome(status, errors.ToString()) : new PushOutcome(204, "");
    }

    // Lists of a push's admitted streams, reused: one per push (80 bytes a stream) was the largest allocation of the
    // reference ingest. A list grown for a huge push is not kept.
    private readonly SpareObjects<List<(HeadStream Stream, Admitted Entries)>> _spareAccepted = new(4);
    private const int MaxSpareAccepted = 4096;

    // Writes the push's WAL record, has the commit run apply with the segment it went to, and waits for both. Until the
    // entries are in the head the record's segment is held in _inFlight (released by the caller once they are), so a
    // flush racing with the push keeps it.
    private async Task LogAsync(string tenant, long recordId, List<(HeadStream Stream, Admitted Entries)> accepted, PushBatch batch,
        Action<long> apply)
    {
        // Sized for the framing too (timestamp and length varints, metadata counts, one label text per stream, the shared
        // metadata table), so the record is written into one buffer and not regrown half way.
        long bytes = 0, lines = 0;
        var sharedUsed = 0;
        foreach (var (_, admitted) in accepted)
        {
            bytes += admitted.Bytes;
            lines += admitted.Entries.Count;
            sharedUsed |= admitted.SharedUsed;
        }

        var recordCapacity = bytes + (lines * 24) + (accepted.Count * 256L) + 512;
        using var record = new PooledBufferWriter(checked((int)Math.Min(int.MaxValue, recordCapacity)), PushBuffers.Pool);

        // Metadata most entries share (the detected level alone) is written once, at the head of the record: the table
        // holds the shared arrays validation saw the push's streams use, in their shared order, so an entry refers to its
        // array by its rank there and the push is walked once; a push of one level does not carry all eight.
        var table = new byte[BitOperations.PopCount((uint)sharedUsed)][];
        Span<int> rank = stackalloc int[PushValidator.SharedCount];
        for (var (i, used) = (0, 0); i < rank.Length; i++)
        {
            if ((sharedUsed & (1 << i)) != 0)
            {
                rank[i] = used;
                table[used++] = PushValidator.SharedEncodingAt(i);
            }
        }

        WalRecord.BeginEntries(record, recordId, tenant, table, accepted.Count);
        foreach (var (head, admitted) in accepted)
        {
            WalRecord.WriteStream(record, head.WalLabels, admitted.Entries, batch, rank);
        }

        _inFlight[recordId] = _wal!.CurrentSegment;
        try
        {
            await _wal.AppendAsync(record.WrittenMemory, apply).ConfigureAwait(false);
            _metrics.WalRecords.Inc();
            _metrics.WalLoggedBytes.Inc(record.WrittenCount);
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

    /// <summary>For tests: runs between a push's lookup of a stream and its admission, where an idle sweep may forget it.</summary>
    internal Action<HeadStream>? StreamLookedUp { get; set; }

    // Finds (or creates) the stream, from the validated stream's slot when it holds it, and admits the push's entries to
    // it. A stream the idle sweep forgot in between is looked up again: its replacement is what flushes and queries see.
    // Null head (with Loki's error) over the stream limit.
    private (HeadStream? Head, (Admitted Admitted, string? Error, bool RateLimited) Admission, string? LimitError) LookUpAndAdmit(
        string tenant, ValidatedStream validated, PushBatch batch, IngestionLimits limits, long now)
    {
        var slot = validated.Slot;
        var head = slot?.For(tenant);
        while (true)
        {
            if (head is null)
            {
                head = GetOrCreateStream(tenant, validated.Labels, limits, now, out var limitError);
                if (head is null)
                {
                    return (null, default, limitError);
                }

                slot?.Keep(head);
            }

            StreamLookedUp?.Invoke(head);
            if (Admit(head, validated, batch, limits, now) is { } admission)
            {
                return (head, admission, null);
            }

            head = null;
        }
    }

    private HeadStream? GetOrCreateStream(string tenant, LabelSet labels, IngestionLimits limits, long now, out string? error)
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
            error = $"maximum active stream limit exceeded when trying to create stream {labels}, " +
                $"reduce the number of active streams (reduce labels or reduce label values), " +
                $"or contact your Loki administrator to see if the limit can be increased, user: '{tenant}'";
            return null;
        }

        // Not idle from the start: an idle sweep before the push admits its entries would forget it at once.
        var created = new HeadStream(labels, Fingerprint.Of(labels), tenant, _partSize, _spill, _tails) { LastAppendAt = now };
        var stream = streams.GetOrAdd(labels, created);
        if (ReferenceEquals(stream, created))
        {
            _metrics.StreamsCreated.WithLabels(tenant).Inc();
            _metrics.MemoryStreams.WithLabels(tenant).Inc();
        }

        return stream;
    }

    // Decides which of a stream's entries the push accepts (resends, too-old entries and rate limits are
    // refused here), without touching the head: the entries are applied once the WAL holds them. Null when the stream has
    // been removed as idle since the caller found it.
    private (Admitted Admitted, string? Error, bool RateLimited)? Admit(HeadStream stream, ValidatedStream validated,
        PushBatch batch, IngestionLimits limits, long now)
    {
        // Usually every entry is accepted and the validated list serves as is; it is copied from the first drop on.
        List<ValidatedEntry>? kept = null;
        List<(long Timestamp, string Reason)>? failures = null;
        List<ValidatedEntry> accepted;
        long acceptedBytes = 0;
        lock (stream.WriteChecks)
        {
            if (stream.Removed)
            {
                return null;
            }

            var highest = stream.HighestTimestamp;
            var window = _options.MaxChunkAge.Ticks * 100 / 2;

            // The previous accepted entry, for Loki's silent drop of an exact resend: from an earlier push it is
            // kept as copies; within this push it is referenced in the batch, so nothing is copied per entry.
            var previousTimestamp = stream.Last?.Timestamp ?? long.MinValue;
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
                        $"entry too far behind, entry timestamp is: {GoTimestamp.FormatRfc3339(entry.TimestampNs)}, " +
                        $"oldest acceptable timestamp is: {GoTimestamp.FormatRfc3339(cutoff)}"));
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
                        $"Per stream rate limit exceeded (limit: {HumanSize(limits.PerStreamRateLimit)}/sec) " +
                        $"while attempting to ingest for stream '{stream.LabelsText}' totaling {HumanSize(entry.LineLength)}, " +
                        $"consider splitting a stream via additional labels or contact your Loki administrator to see if the limit can be increased"));
                }

                _metrics.Discard("per_stream_rate_limit", stream.Tenant, limits.RetentionHours, batch.Format, accepted.Count, acceptedBytes);
                return (new Admitted([], 0, highest, null, 0), FailureMessage(stream, failures, validated.Entries.Count), true);
            }

            // The stream counts as active from here: a flush while the WAL commit runs must not forget it as idle
            // and empty, or the entries would be applied to a stream no query finds.
            if (accepted.Count > 0)
            {
                stream.LastAppendAt = now;
            }

            var admitted = new Admitted(accepted, acceptedBytes, highest, previousInBatch, validated.SharedUsed);
            return (admitted, failures is { Count: > 0 } ? FailureMessage(stream, failures, validated.Entries.Count) : null, false);
        }
    }

    private void ApplyAll(List<(HeadStream Stream, Admitted Entries)> accepted, PushBatch batch, long recordId, long walSegment, long now)
    {
        foreach (var (head, admitted) in accepted)
        {
            Apply(head, admitted, batch, recordId, walSegment, now);
        }
    }

    // Appends admitted entries, now durable in the WAL, to the stream's open block.
    private void Apply(HeadStream stream, Admitted admitted, PushBatch batch, long recordId, long walSegment, long now)
    {
        long held;
        lock (stream.Sync)
        {
            var before = stream.Open.RawBytes;

            // A push's own run of the stream's entries, sorted as a client sends them, lets the head order an
            // unsorted tail by runs (pushes overtaking each other on several connections) instead of by entries.
            if (admitted.Entries.Count >= MinRunEntries)
            {
                stream.Open.StartRun();
            }

            stream.Open.AppendPush(batch, admitted.Entries, recordId, walSegment, now, _builders);

            // What the head now holds, structured metadata included (a flush releases the same amount).
            held = stream.Open.RawBytes - before;
            if (stream.Open.RawBytes >= CutBytes)
            {
                SealOpen(stream);
            }
        }

        lock (stream.WriteChecks)
        {
            // A concurrent push to the stream may have been applied in between; the highest timestamp only grows.
            stream.HighestTimestamp = Math.Max(stream.HighestTimestamp, admitted.Highest);
            if (admitted.Newest is { } newest)
            {
                stream.KeepLast(newest.TimestampNs, batch.Bytes(newest.LineStart, newest.LineLength), EncodedMetadata(newest));
            }

            stream.LastAppendAt = now;
        }

        Interlocked.Add(ref _headBytes, held);
    }

    // Fewer entries of a stream in a push join the head's run before them (a run costs the head 24 bytes until compressed).
    private const int MinRunEntries = 8;

    // A stream's entries accepted by a push: their raw bytes, the highest timestamp, the newest entry (for the next
    // push's resend check) and the shared metadata arrays validation saw (ValidatedStream.SharedUsed).
    private readonly record struct Admitted(List<ValidatedEntry> Entries, long Bytes, long Highest, ValidatedEntry? Newest, int SharedUsed);

    private static bool IsResend(HeadStream stream, PushBatch batch, ValidatedEntry? previousInBatch, ValidatedEntry entry, ReadOnlySpan<byte> line)
    {
        if (previousInBatch is { } previous)
        {
            return line.SequenceEqual(batch.Bytes(previous.LineStart, previous.LineLength))
                && previous.Metadata.AsSpan().SequenceEqual(entry.Metadata);
        }

        return stream.Last is { } last && line.SequenceEqual(last.Line) && EncodedMetadata(entry).AsSpan().SequenceEqual(last.Metadata);
    }

    // Loki's ingester answer for rejected entries of one stream: one line per entry (up to a limit), then a summary.
    private string FailureMessage(HeadStream stream, List<(long Timestamp, string Reason)> failures, int total)
    {
        var sb = new StringBuilder();
        var shown = _options.MaxReturnedStreamErrors > 0 ? Math.Min(failures.Count, _options.MaxReturnedStreamErrors) : failures.Count;
        for (var i = 0; i < shown; i++)
        {
            sb.Append("entry with timestamp ").Append(GoTimestamp.FormatGoString(failures[i].Timestamp))
                .Append(" ignored, reason: '").Append(failures[i].Reason).Append("',\n");
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

    private static byte[] EncodedMetadata(in ValidatedEntry entry)
    {
        if (entry.Shared >= 0)
        {
            return PushValidator.SharedEncodingAt(entry.Shared);
        }

        var writer = new ArrayBufferWriter<byte>(16);
        StructuredMetadata.Encode(writer, entry.Metadata);
        return writer.WrittenSpan.ToArray();
    }
}
