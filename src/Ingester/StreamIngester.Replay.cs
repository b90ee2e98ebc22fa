using System.Collections.Concurrent;
using LokiSharp.Ingester.Head;
using LokiSharp.Ingester.Wal;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Index;

namespace LokiSharp.Ingester;

/// <content>WAL replay at start: entries not yet flushed are put back into the head.</content>
public sealed partial class StreamIngester
{
    // Opens the WAL and replays it into the head: flushed-markers are collected first, then every entry record
    // not marked flushed is appended again.
    private void OpenAndReplayWal()
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
        if (!WalRecord.IsEntries(reader.ReadKind()))
        {
            return;
        }

        reader.ReadEntriesHeader(out var recordId, out var tenant, out var streamCount);
        _recordId = Math.Max(_recordId, recordId);
        var now = _time.GetUtcNow().UtcTicks;
        for (var s = 0; s < streamCount; s++)
        {
            reader.ReadStreamHeader(out var labelsText, out var entryCount);
            if (flushed.TryGetValue((tenant, labelsText), out var ids) && ids.Contains(recordId))
            {
                for (var e = 0; e < entryCount; e++)
                {
                    reader.ReadEntry(out _, out _, out _);
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
                stream = streams.GetOrAdd(labels, new HeadStream(labels, Fingerprint.Of(labels), tenant, _partSize, _spill, _tails));
                _metrics.StreamsCreated.WithLabels(tenant).Inc();
                _metrics.MemoryStreams.WithLabels(tenant).Inc();
            }

            if (entryCount == 0)
            {
                continue;
            }

            long bytes = 0;
            lock (stream.Sync)
            {
                var highest = long.MinValue;
                long timestamp = 0;
                ReadOnlySpan<byte> line = default;
                ReadOnlySpan<byte> metadata = default;
                for (var e = 0; e < entryCount; e++)
                {
                    reader.ReadEntry(out timestamp, out line, out metadata);
                    stream.Open.AppendEncoded(timestamp, line, metadata, recordId, segment, now, _builders);
                    highest = Math.Max(highest, timestamp);
                    bytes += line.Length + metadata.Length;
                }

                // Only the stream's last entry is kept for the resend check, not a copy of every one.
                lock (stream.WriteChecks)
                {
                    stream.HighestTimestamp = Math.Max(stream.HighestTimestamp, highest);
                    stream.KeepLast(timestamp, line, metadata.ToArray());
                    stream.LastAppendAt = now;
                }

                if (stream.Open.RawBytes >= CutBytes)
                {
                    SealOpen(stream);
                }
            }

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
