using System.Buffers;
using System.Collections.Concurrent;
using LokiSharp.Ingester.Head;
using LokiSharp.Ingester.Wal;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Store;

namespace LokiSharp.Ingester;

/// <content>
/// Cutting blocks by size, age and idleness, storing them as chunks, forgetting idle streams and dropping WAL segments
/// no longer needed.
/// </content>
public sealed partial class StreamIngester
{
    // Compressed bytes stored per pack at most when a flush stores many blocks (a forced flush of the whole head).
    private const long FlushBatchBytes = 64L << 20;

    /// <summary>Cuts the blocks that are due (all of them when <paramref name="force"/>) and stores them.</summary>
    public async Task FlushAsync(bool force, CancellationToken cancellationToken)
    {
        await _flushLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _time.GetUtcNow().UtcTicks;
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
                                : open.RawBytes >= CutBytes ? FlushReason.Full
                                : now - open.CreatedAt >= _options.MaxChunkAge.Ticks ? FlushReason.MaxAge
                                : now - stream.LastAppendAt >= _options.ChunkIdlePeriod.Ticks ? FlushReason.Idle
                                : null;
                            if (reason is { } due)
                            {
                                SealOpen(stream);
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

                foreach (var batch in Batches(writes))
                {
                    await StoreAsync(tenant, batch, now).ConfigureAwait(false);
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

    // Blocks to store, in groups of at most FlushBatchBytes of parts (a block is never split): spilled parts are read
    // back into memory to be stored, so a flush of the whole head holds one group at a time, not the whole head.
    private static IEnumerable<List<(HeadStream Stream, HeadBlock Block, FlushReason Reason)>> Batches(
        List<(HeadStream Stream, HeadBlock Block, FlushReason Reason)> writes)
    {
        var batch = new List<(HeadStream Stream, HeadBlock Block, FlushReason Reason)>();
        long bytes = 0;
        foreach (var write in writes)
        {
            long size = 0;
            foreach (var part in write.Block.Parts)
            {
                size += part.Length;
            }

            if (batch.Count > 0 && bytes + size > FlushBatchBytes)
            {
                yield return batch;
                batch = [];
                bytes = 0;
            }

            batch.Add(write);
            bytes += size;
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    private async Task StoreAsync(string tenant, List<(HeadStream Stream, HeadBlock Block, FlushReason Reason)> writes, long now)
    {
        // The head already holds each block as compressed one-block chunks; they are stored as they are.
        var chunks = new List<ChunkWrite>(writes.Count);
        foreach (var (stream, block, _) in writes)
        {
            foreach (var part in block.Parts)
            {
                chunks.Add(new ChunkWrite(stream.Labels, part.Load(), part.Summary));
            }
        }

        _store.Write(tenant, chunks);
        chunks.Clear();

        if (_wal is not null)
        {
            var markers = new List<Task>(writes.Count);
            foreach (var (stream, block, _) in writes)
            {
                var ids = block.RecordIds;
                if (ids.Count == 0)
                {
                    continue;
                }

                var marker = new ArrayBufferWriter<byte>(64 + (ids.Count * 4));
                WalRecord.WriteFlushed(marker, tenant, stream.LabelsText, ids);
                markers.Add(_wal.AppendAsync(marker.WrittenMemory));
            }

            await Task.WhenAll(markers).ConfigureAwait(false);
        }

        var retain = _options.RetainFlushed > TimeSpan.Zero;
        foreach (var (stream, block, reason) in writes)
        {
            lock (stream.Sync)
            {
                stream.Sealed.Remove(block);
                if (retain)
                {
                    stream.Retained.Add((block, now));
                }
                else
                {
                    block.Release();
                }
            }

            if (!retain)
            {
                Interlocked.Add(ref _headBytes, -block.RawBytes);
            }

            foreach (var part in block.Parts)
            {
                _metrics.ChunksFlushed.WithLabels(ReasonLabel(reason)).Inc();
                _metrics.ChunkEntries.Observe(part.Entries);
                _metrics.ChunkSize.Observe(part.Length);
                _metrics.ChunkAge.Observe(TimeSpan.FromTicks(Math.Max(0, now - block.CreatedAt)).TotalSeconds);
                _metrics.ChunkUtilization.Observe(Math.Min(1, part.Length / (double)_options.ChunkTargetSize));
            }
        }
    }

    // Raw bytes after which a stream's open block is sealed as a chunk of about the target size.
    private long CutBytes => (long)(_options.ChunkTargetSize * _options.AssumedCompressionRatio);

    // Seals the stream's open block, for a flush to store, and starts a new one. Under stream.Sync.
    private void SealOpen(HeadStream stream)
    {
        stream.Open.Seal(_builders);
        stream.Sealed.Add(stream.Open);
        stream.Open = stream.NewBlock();
        _metrics.ChunksCreated.Inc();
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
                ReleaseRetained(stream, now);

                // Keep a stream that may still receive writes or be read; an idle, empty one is forgotten as in Loki. A
                // push admitted meanwhile made it recent; one that found it and admits later finds it removed.
                lock (stream.WriteChecks)
                {
                    if (!stream.IsEmpty || stream.Retained.Count > 0 || now - stream.LastAppendAt < _options.ChunkIdlePeriod.Ticks)
                    {
                        continue;
                    }

                    stream.Removed = true;
                    stream.Slot?.Release(stream);
                    streams.TryRemove(labels, out _);
                }
            }

            _metrics.StreamsRemoved.WithLabels(tenant).Inc();
            _metrics.MemoryStreams.WithLabels(tenant).Dec();
        }
    }

    // Stored blocks whose retain period is over leave the head, and their memory the head's bound. Under stream.Sync.
    private void ReleaseRetained(HeadStream stream, long now)
    {
        var expiry = _options.RetainFlushed.Ticks;
        stream.Retained.RemoveAll(retained =>
        {
            if (now - retained.FlushedAt < expiry)
            {
                return false;
            }

            Interlocked.Add(ref _headBytes, -retained.Block.RawBytes);
            retained.Block.Release();
            return true;
        });
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
}
