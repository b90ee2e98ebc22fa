using System.Buffers;
using System.Text;
using LokiSharp.Ingester.Distribution;
using LokiSharp.Ingester.Limits;
using LokiSharp.Ingester.Push;
using LokiSharp.Ingester.Wal;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Reading;
using LokiSharp.Storage.Store;
using Prometheus;
using MatchType = LokiSharp.LogQL.Labels.MatchType;

namespace LokiSharp.Ingester.Tests;

/// <summary>The write-ahead log on its own, and the ingester's head across restarts, flushes and crashes.</summary>
public sealed class WalAndHeadTests : IDisposable
{
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;

    private readonly string _directory = Directory.CreateTempSubdirectory("lokisharp-ingester-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private sealed class FixedLimits(IngestionLimits limits) : ITenantLimits
    {
        public IngestionLimits For(string tenant) => limits;
    }

    /// <summary>A crash and a start on the same directory: the process dies without StopAsync (nothing flushed, WAL only).</summary>
    private (StreamIngester Ingester, ChunkStore Store) Restart(StreamIngester ingester, ChunkStore store)
    {
        ingester.Dispose();
        store.Dispose();
        return Open();
    }

    private (StreamIngester Ingester, ChunkStore Store) Open(IngestionLimits? limits = null, TimeSpan? maxChunkAge = null, long maxHeadBytes = 2L << 30,
        long walSegmentSize = 128L << 20, TimeSpan retainFlushed = default, TimeProvider? time = null, string? spillDirectory = null)
    {
        var store = ChunkStore.Open(new StorageOptions { RootDirectory = Path.Combine(_directory, "chunks") });
        var options = new IngesterOptions
        {
            WalDirectory = Path.Combine(_directory, "wal"),
            FlushCheckPeriod = TimeSpan.FromHours(1),
            MaxChunkAge = maxChunkAge ?? TimeSpan.FromHours(2),
            MaxHeadBytes = maxHeadBytes,
            WalSegmentSize = walSegmentSize,
            RetainFlushed = retainFlushed,
            SpillDirectory = spillDirectory,
        };
        var ingester = new StreamIngester(options, store, new FixedLimits(limits ?? new IngestionLimits()),
            new IngesterMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry())), time ?? TimeProvider.System);
        ingester.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        return (ingester, store);
    }

    private static async Task<PushOutcome> PushAsync(StreamIngester ingester, string labels, params (long Ts, string Line)[] entries)
    {
        using var batch = new PushBatch();
        batch.BeginStream(labels);
        foreach (var (ts, line) in entries)
        {
            batch.AddEntry(ts, Encoding.UTF8.GetBytes(line));
        }

        return await ingester.PushAsync("fake", batch, CancellationToken.None).ConfigureAwait(false);
    }

    private static List<(long Ts, string Line)> ReadAll(ILogSource source, string selectorName = "app", string value = "web")
    {
        var rows = new List<(long, string)>();
        foreach (var stream in source.SelectStreams("fake", [new LabelMatcher(selectorName, MatchType.Equal, value)], 0, long.MaxValue))
        {
            using var entries = source.OpenEntries("fake", stream, new EntryQuery(0, long.MaxValue));
            while (entries.MoveNext())
            {
                rows.Add((entries.Current.Timestamp, Encoding.UTF8.GetString(entries.Current.Line)));
            }
        }

        return rows;
    }

    [Fact]
    public async Task Wal_replays_committed_records_in_order_and_groups_concurrent_commits()
    {
        var path = Path.Combine(_directory, "wal-only");
        using (var wal = WriteAheadLog.Open(path, 1 << 20))
        {
            wal.Start();
            var appends = new List<Task<long>>();
            for (var i = 0; i < 200; i++)
            {
                appends.Add(wal.AppendAsync(Encoding.UTF8.GetBytes("record " + i)));
            }

            await Task.WhenAll(appends);
            Assert.True(wal.Commits < 200, $"{wal.Commits} fsyncs for 200 concurrent appends");
        }

        var replayed = new List<string>();
        using var reopened = WriteAheadLog.Open(path, 1 << 20);
        reopened.Replay((_, record) => replayed.Add(Encoding.UTF8.GetString(record)), []);

        Assert.Equal(Enumerable.Range(0, 200).Select(i => "record " + i), replayed);
    }

    [Fact]
    public async Task An_append_runs_its_action_on_the_commit_thread_after_the_fsync_and_every_caller_continues_on_the_pool()
    {
        var path = Path.Combine(_directory, "wal-continuations");
        using (var wal = WriteAheadLog.Open(path, 1 << 20))
        {
            // Appended before the commit thread starts, so that every caller already waits when its commit ends.
            (string? Thread, long Commits, long Segment) ranAt = default;
            var push = ThreadContinuedOn(wal.AppendAsync(Encoding.UTF8.GetBytes("push"), segment => ranAt = (Thread.CurrentThread.Name, wal.Commits, segment)));
            var failing = ThreadContinuedOn(wal.AppendAsync(Encoding.UTF8.GetBytes("failing"), _ => throw new InvalidOperationException("apply failed")));
            var marker = ThreadContinuedOn(wal.AppendAsync(Encoding.UTF8.GetBytes("marker")));
            var roll = ThreadContinuedOn(wal.RollAsync());
            wal.Start();

            Assert.NotEqual("wal-commit", await push);
            Assert.Equal("wal-commit", ranAt.Thread);
            Assert.True(ranAt.Commits > 0, "ran before the commit was counted");
            Assert.Equal(await wal.AppendAsync(Encoding.UTF8.GetBytes("later")) - 1, ranAt.Segment);
            Assert.Equal("apply failed", (await Assert.ThrowsAsync<InvalidOperationException>(() => failing)).Message);
            Assert.NotEqual("wal-commit", await marker);
            Assert.NotEqual("wal-commit", await roll);
        }

        var replayed = new List<string>();
        using var reopened = WriteAheadLog.Open(path, 1 << 20);
        reopened.Replay((_, record) => replayed.Add(Encoding.UTF8.GetString(record)), []);
        Assert.Equal(["push", "failing", "marker", "later"], replayed);
    }

    // The thread an awaiting caller continues on (no context to return to, as in the server).
    private static async Task<string?> ThreadContinuedOn(Task append)
    {
        await append.ConfigureAwait(false);
        return Thread.CurrentThread.Name;
    }

    [Fact]
    public async Task A_burst_of_appends_and_rolls_replays_in_order_from_the_segments_the_appends_were_told()
    {
        // Thousands of appends queued while a commit is running make commits of hundreds of records (more buffers than
        // one pwritev takes), and the rolls among them cut segments in the middle of a commit.
        var path = Path.Combine(_directory, "wal-burst");
        var appends = new List<(string Text, Task<long> Segment)>();
        using (var wal = WriteAheadLog.Open(path, 1L << 30))
        {
            wal.Start();
            var rolls = new List<Task<long>>();
            for (var i = 0; i < 3000; i++)
            {
                var text = "record " + i + new string('x', i % 50);
                appends.Add((text, wal.AppendAsync(Encoding.UTF8.GetBytes(text))));
                if (i % 1000 == 999)
                {
                    rolls.Add(wal.RollAsync());
                }
            }

            await Task.WhenAll(appends.Select(a => (Task)a.Segment).Concat(rolls));
        }

        var damage = new List<WalDamage>();
        var replayed = new List<(long Segment, string Text)>();
        using var reopened = WriteAheadLog.Open(path, 1L << 30);
        reopened.Replay((segment, record) => replayed.Add((segment, Encoding.UTF8.GetString(record))), damage);

        Assert.Empty(damage);
        Assert.Equal(appends.Select(a => (a.Segment.Result, a.Text)), replayed);
        Assert.Equal([1000, 1000, 1000], replayed.GroupBy(r => r.Segment).Select(g => g.Count()));
    }

    [Fact]
    public async Task A_torn_tail_is_truncated_and_reported_not_fatal()
    {
        var path = Path.Combine(_directory, "wal-torn");
        using (var wal = WriteAheadLog.Open(path, 1 << 20))
        {
            wal.Start();
            await wal.AppendAsync("first"u8.ToArray());
            await wal.AppendAsync("second"u8.ToArray());
        }

        var segment = Directory.GetFiles(path).Single();
        var length = WalSegments.RecordsEnd(segment);
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(length - 3);
        }

        var damage = new List<WalDamage>();
        var replayed = new List<string>();
        using (var reopened = WriteAheadLog.Open(path, 1 << 20))
        {
            reopened.Replay((_, record) => replayed.Add(Encoding.UTF8.GetString(record)), damage);
            reopened.Start();
            await reopened.AppendAsync("third"u8.ToArray());
        }

        Assert.Equal(["first"], replayed);
        var problem = Assert.Single(damage);
        Assert.True(problem.Truncated);
        Assert.Equal("torn record", problem.Reason);

        var afterRestart = new List<string>();
        using var again = WriteAheadLog.Open(path, 1 << 20);
        again.Replay((_, record) => afterRestart.Add(Encoding.UTF8.GetString(record)), damage);
        Assert.Equal(["first", "third"], afterRestart);
    }

    [Fact]
    public async Task Replay_reports_a_damaged_record_in_the_middle_and_goes_on_with_the_intact_records_after_it()
    {
        var path = Path.Combine(_directory, "wal-middle");
        using (var wal = WriteAheadLog.Open(path, 1 << 20))
        {
            wal.Start();
            for (var i = 0; i < 5; i++)
            {
                // Records start with a kind byte, as the ingester's do.
                await wal.AppendAsync((byte[])[WalRecord.EntriesKind, .. Encoding.UTF8.GetBytes("record " + i)]);
            }
        }

        var segment = Directory.GetFiles(path).Single();
        var bytes = File.ReadAllBytes(segment);
        var second = bytes.AsSpan().IndexOf("record 1"u8);
        bytes[second + 3] ^= 0xFF;
        File.WriteAllBytes(segment, bytes);

        var damage = new List<WalDamage>();
        var replayed = new List<string>();
        using var reopened = WriteAheadLog.Open(path, 1 << 20);
        reopened.Replay((_, record) => replayed.Add(Encoding.UTF8.GetString(record[1..])), damage);

        Assert.Equal(["record 0", "record 2", "record 3", "record 4"], replayed);
        var problem = Assert.Single(damage);
        Assert.Equal("record checksum mismatch", problem.Reason);
        Assert.False(problem.Truncated);
        Assert.Equal(bytes.Length, new FileInfo(segment).Length);
    }

    [Fact]
    public async Task A_segment_of_an_unknown_version_is_reported_and_not_read()
    {
        var path = Path.Combine(_directory, "wal-version");
        using (var wal = WriteAheadLog.Open(path, 1 << 20))
        {
            wal.Start();
            await wal.AppendAsync(new byte[] { WalRecord.EntriesKind, 42 });
        }

        var segment = Directory.GetFiles(path).Single();
        var bytes = File.ReadAllBytes(segment);
        bytes[4] = 9;
        File.WriteAllBytes(segment, bytes);

        var damage = new List<WalDamage>();
        var replayed = 0;
        using var reopened = WriteAheadLog.Open(path, 1 << 20);
        reopened.Replay((_, _) => replayed++, damage);

        Assert.Equal(0, replayed);
        Assert.Equal("unsupported segment version 9 (this build reads 1 to 3)", Assert.Single(damage).Reason);
    }

    [Fact]
    public async Task A_record_with_intact_framing_but_unreadable_content_is_reported_and_the_ingester_starts()
    {
        // A record the framing accepts but whose stream labels do not parse, between two good pushes' records.
        var record = new ArrayBufferWriter<byte>();
        WalRecord.BeginEntries(record, 99, "fake", [], 1);
        WalRecord.BeginStream(record, WalRecord.EncodeLabels("{app="), 1, out var previous);
        WalRecord.WriteEntry(record, ref previous, Now + 1, "lost"u8, ReadOnlySpan<LabelPair>.Empty);
        await PushThenAppendRecordsAsync((Now, "kept"), record.WrittenMemory, new byte[] { WalRecord.EntriesKind, 0xFF });

        var (reopened, _) = Open();
        using (reopened)
        {
            Assert.Equal(2, reopened.ReplayDamage.Count);
            Assert.Equal(204, (await PushAsync(reopened, "{app=\"web\"}", (Now + 2, "after"))).StatusCode);
            Assert.Equal(["kept", "after"], ReadAll(reopened).Select(r => r.Line));
        }
    }

    [Fact]
    public async Task A_compact_record_whose_table_holds_only_the_encodings_it_uses_replays_beside_records_with_the_whole_table()
    {
        // Builds before this one wrote into a record's table only the shared encodings its entries used, in order of
        // first use; then every record held all of them; now those its streams use, in their shared order. All are read
        // by position.
        // The whole table, as builds before the table of used encodings wrote every record; the entry refers to "error"
        // by its place in it.
        var table = Enumerable.Range(0, PushValidator.SharedCount).Select(PushValidator.SharedEncodingAt).ToArray();
        var error = Array.FindIndex(table, encoded => Encoding.UTF8.GetString(encoded).Contains("error", StringComparison.Ordinal));
        Assert.True(error >= 1);
        var record = new ArrayBufferWriter<byte>();
        WalRecord.BeginEntries(record, 99, "fake", table, 1);
        WalRecord.BeginStream(record, WalRecord.EncodeLabels("{app=\"web\"}"), 2, out var previous);
        WalRecord.WriteEntry(record, ref previous, Now + 1, "level=error whole table"u8, error);
        WalRecord.WriteEntry(record, ref previous, Now + 2, "own metadata"u8, [new LabelPair("trace_id", "t9")]);
        await PushThenAppendRecordsAsync((Now, "level=info used encodings only"), record.WrittenMemory);

        var (reopened, _) = Open();
        using (reopened)
        {
            Assert.Empty(reopened.ReplayDamage);
            Assert.Equal(
                [(Now, "level=info used encodings only", "detected_level=info"), (Now + 1, "level=error whole table", "detected_level=error"),
                    (Now + 2, "own metadata", "trace_id=t9")],
                ReadAllWithMetadata(reopened));
        }
    }

    // Pushes one entry of {app="web"} through an ingester, closes it, then appends records written by hand to its WAL.
    private async Task PushThenAppendRecordsAsync((long Ts, string Line) pushed, params ReadOnlyMemory<byte>[] records)
    {
        var (ingester, _) = Open();
        Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", pushed)).StatusCode);
        ingester.Dispose();
        using var wal = WriteAheadLog.Open(Path.Combine(_directory, "wal"), 128L << 20);
        wal.Replay((_, _) => { }, []);
        wal.Start();
        foreach (var record in records)
        {
            await wal.AppendAsync(record);
        }
    }

    // A version 1 segment as builds before the compact entries record wrote it (docs/formats/wal.md, kind 1): record 7
    // holds two entries of {app="web"} (metadata detected_level=info, then trace_id=abc and detected_level=error),
    // record 8 one entry, and a flushed record marks record 8 as stored.
    private static readonly string[] FirstFormatRecords =
    [
        "01070466616b65010b7b6170703d22776562227d028080a8b1e39fe7cb17076f6c64206f6e65010e64657465637465645f6c6576656c04696e666f" +
        "8180a8b1e39fe7cb17076f6c642074776f020874726163655f6964036162630e64657465637465645f6c6576656c056572726f72",
        "01080466616b65010b7b6170703d22776562227d018280a8b1e39fe7cb170e666c7573686564206265666f726500",
        "020466616b650b7b6170703d22776562227d0108",
    ];

    private static void WriteFirstFormatSegment(string walDirectory)
    {
        Directory.CreateDirectory(walDirectory);
        var bytes = new List<byte>();
        bytes.AddRange("LKSW"u8.ToArray()); // magic 0x57534B4C, little-endian
        bytes.AddRange(BitConverter.GetBytes(1u));
        foreach (var hex in FirstFormatRecords)
        {
            var payload = Convert.FromHexString(hex);
            bytes.AddRange(BitConverter.GetBytes((uint)payload.Length));
            bytes.AddRange(BitConverter.GetBytes(LokiSharp.Storage.Hashing.Crc32C.Compute(payload)));
            bytes.AddRange(payload);
        }

        File.WriteAllBytes(Path.Combine(walDirectory, "0000000001.wal"), [.. bytes]);
    }

    private static List<(long Ts, string Line, string Metadata)> ReadAllWithMetadata(ILogSource source)
    {
        var rows = new List<(long, string, string)>();
        foreach (var stream in source.SelectStreams("fake", [new LabelMatcher("app", MatchType.Equal, "web")], 0, long.MaxValue))
        {
            using var entries = source.OpenEntries("fake", stream, new EntryQuery(0, long.MaxValue));
            while (entries.MoveNext())
            {
                var pairs = entries.Current.Metadata.ToLabelPairs().Select(p => p.Name + "=" + p.Value);
                rows.Add((entries.Current.Timestamp, Encoding.UTF8.GetString(entries.Current.Line), string.Join(",", pairs)));
            }
        }

        return rows;
    }

    [Fact]
    public async Task A_WAL_written_in_the_first_record_format_replays_and_later_compact_records_replay_after_it()
    {
        const long ts = 1_700_000_000_000_000_000;
        WriteFirstFormatSegment(Path.Combine(_directory, "wal"));

        var (ingester, store) = Open();
        Assert.Empty(ingester.ReplayDamage);
        Assert.Equal(2, ingester.ReplayedEntries);
        Assert.Equal([(ts, "old one", "detected_level=info"), (ts + 1, "old two", "trace_id=abc,detected_level=error")], ReadAllWithMetadata(ingester));

        // A push after the upgrade goes to a new segment in the compact format; both replay after a crash.
        Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", (Now, "new one"))).StatusCode);
        var (restarted, store2) = Restart(ingester, store);
        using (store2)
        using (restarted)
        {
            Assert.Empty(restarted.ReplayDamage);
            Assert.Equal(3, restarted.ReplayedEntries);
            Assert.Equal(
                [(ts, "old one", "detected_level=info"), (ts + 1, "old two", "trace_id=abc,detected_level=error"), (Now, "new one", "detected_level=unknown")],
                ReadAllWithMetadata(restarted).OrderBy(r => r.Ts));
        }
    }

    [Fact]
    public async Task Compact_records_replay_unsorted_timestamps_shared_and_own_metadata_and_several_streams()
    {
        var (ingester, store) = Open();
        using (var batch = new PushBatch())
        {
            batch.BeginStream("{app=\"web\"}");
            batch.AddEntry(Now + 5, "level=error first"u8);
            batch.AddEntry(Now + 2, "level=info stepped back"u8);
            batch.AddMetadata("trace_id", "t1");
            batch.AddEntry(Now + 2_000_000_000, "later"u8);
            batch.AddEntry(Now - 3_000_000_000, "level=warn older"u8);
            batch.BeginStream("{app=\"web\", pod=\"b\"}");
            batch.AddEntry(Now + 1, "level=info other stream"u8);
            Assert.Equal(204, (await ingester.PushAsync("fake", batch, CancellationToken.None)).StatusCode);
        }

        var before = ReadAllWithMetadata(ingester);
        Assert.Equal(5, before.Count);
        Assert.Contains((Now + 2, "level=info stepped back", "trace_id=t1,detected_level=info"), before);
        var (restarted, store2) = Restart(ingester, store);
        using (store2)
        using (restarted)
        {
            Assert.Empty(restarted.ReplayDamage);
            Assert.Equal(5, restarted.ReplayedEntries);
            Assert.Equal(before, ReadAllWithMetadata(restarted));
        }
    }

    [Fact]
    public async Task An_entry_costs_the_WAL_its_line_and_a_few_bytes_when_its_metadata_is_the_detected_level_alone()
    {
        var (ingester, store) = Open();
        var line = "level=info a line of the usual kind";
        var entries = Enumerable.Range(0, 200).Select(i => (Now + (i * 1_000_000L), line)).ToArray();
        Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", entries)).StatusCode);
        ingester.Dispose();
        store.Dispose();

        // Per entry: a timestamp delta of 1 ms (3 bytes), the line length (1) and the metadata reference (1). The first
        // record format spent 9 bytes on the timestamp and 22 on detected_level=info. Once per record: the framing and
        // the table of the shared metadata encodings the push uses (detected_level=info alone).
        var segment = WalSegments.RecordsEnd(Assert.Single(Directory.GetFiles(Path.Combine(_directory, "wal"))));
        var perEntry = line.Length + 5;
        var info = new ArrayBufferWriter<byte>();
        LokiSharp.Storage.Chunks.StructuredMetadata.Encode(info, [new LabelPair("detected_level", "info")]);
        Assert.InRange(segment, (200 * perEntry) + info.WrittenCount, (200 * perEntry) + info.WrittenCount + 100);
    }

    [Fact]
    public async Task A_push_of_one_line_writes_a_record_of_its_line_and_its_level_not_every_shared_encoding()
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", (Now, "level=warn one line"))).StatusCode);
        }

        // The segment header and the record: framing, record id, tenant, a table of one encoding, the labels, one entry.
        var segment = WalSegments.RecordsEnd(Assert.Single(Directory.GetFiles(Path.Combine(_directory, "wal"))));
        var all = Enumerable.Range(0, PushValidator.SharedCount).Sum(i => PushValidator.SharedEncodingAt(i).Length);
        Assert.True(segment < 120 && segment < all, $"{segment} bytes (every shared encoding alone is {all})");
        var (restarted, store2) = Open();
        using (store2)
        using (restarted)
        {
            Assert.Equal([(Now, "level=warn one line", "detected_level=warn")], ReadAllWithMetadata(restarted));
        }
    }

    [Fact]
    public async Task Large_streams_are_compressed_in_the_head_and_still_read_in_order_across_crash_and_flush()
    {
        var (ingester, store) = Open();
        var line = new string('x', 200);
        var expected = new List<(long, string)>();
        for (var batch = 0; batch < 10; batch++)
        {
            // Each push arrives slightly out of order, within the window.
            var entries = Enumerable.Range(0, 300).Select(i => (Now + (batch * 1000) + (299 - i), $"{batch:D2}-{299 - i:D3} {line}")).ToArray();
            Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", entries)).StatusCode);
            expected.AddRange(entries);
        }

        expected.Sort();
        Assert.Equal(expected, ReadAll(ingester));
        using (var backward = ingester.OpenEntries("fake", ingester.SelectStreams("fake", [], 0, long.MaxValue)[0], new EntryQuery(0, long.MaxValue, Direction.Backward)))
        {
            var previous = long.MaxValue;
            while (backward.MoveNext())
            {
                Assert.True(backward.Current.Timestamp <= previous);
                previous = backward.Current.Timestamp;
            }
        }

        ingester.Dispose();
        store.Dispose();
        var (restarted, store2) = Open();
        using (store2)
        using (restarted)
        {
            Assert.Equal(expected, ReadAll(restarted));
            await restarted.FlushAsync(force: true, CancellationToken.None);
            Assert.Equal(expected, ReadAll(store2));
            Assert.Empty(ReadAll(restarted));
        }
    }

    [Fact]
    public async Task Compressed_parts_are_spilled_to_unlinked_files_readable_by_a_read_begun_before_the_flush_that_stores_them()
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            var line = new string('s', 300);
            var expected = Enumerable.Range(0, 3000).Select(i => (Now + i, $"{i:D4} {line}")).ToList();
            foreach (var push in expected.Chunk(250))
            {
                Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", push)).StatusCode);
            }

            // Several parts are out of memory, and the spill directory shows no file: a crash leaves nothing behind.
            Assert.True(ingester.SpilledBytes > 0);
            Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_directory, "wal", "head-spill")));
            Assert.Equal(expected, ReadAll(ingester));

            // A read taken before the flush goes on reading the spilled parts after they were stored and released.
            var stream = ingester.SelectStreams("fake", [], 0, long.MaxValue)[0];
            var rows = new List<(long, string)>();
            using (var entries = ingester.OpenEntries("fake", stream, new EntryQuery(0, long.MaxValue, Direction.Backward)))
            {
                Assert.True(entries.MoveNext());
                rows.Add((entries.Current.Timestamp, Encoding.UTF8.GetString(entries.Current.Line)));
                await ingester.FlushAsync(force: true, CancellationToken.None);
                while (entries.MoveNext())
                {
                    rows.Add((entries.Current.Timestamp, Encoding.UTF8.GetString(entries.Current.Line)));
                }
            }

            rows.Reverse();
            Assert.Equal(expected, rows);
            Assert.Equal(0, ingester.SpilledBytes);
            Assert.Equal(0, ingester.OpenSpillFiles);
            Assert.Empty(ReadAll(ingester));
            Assert.Equal(expected, ReadAll(store));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_head_read_in_runs_hands_out_what_one_by_one_does_across_overlapping_parts_and_the_tail(bool spill)
    {
        string? blocked = null;
        if (!spill)
        {
            blocked = Path.Combine(_directory, "not-a-directory");
            await File.WriteAllTextAsync(blocked, "a file where the spill directory would be");
        }

        var (ingester, store) = Open(spillDirectory: blocked);
        using (store)
        using (ingester)
        {
            // Parts of the first pushes and of the later ones interleave in time, share timestamps with each other and the
            // tail, and the tail (not compressed yet) holds entries older than the newest parts.
            var line = new string('r', 200);
            foreach (var (offset, step, count, name) in new[] { (0, 4, 3000, "a"), (6002, 4, 1000, "b"), (8000, 8, 300, "c"), (4, 40, 40, "d") })
            {
                var entries = Enumerable.Range(0, count).Select(i => (Now + offset + ((long)i * step), $"{name}-{i:D4} {line}")).ToArray();
                Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", entries)).StatusCode);
            }

            Assert.Equal(spill, ingester.SpilledBytes > 0);
            var stream = ingester.SelectStreams("fake", [], 0, long.MaxValue)[0];
            var query = new EntryQuery(Now + 3, Now + 11_000);
            using var oneByOne = ingester.OpenEntries("fake", stream, query);
            var expected = new List<(long, string)>();
            while (oneByOne.MoveNext())
            {
                expected.Add((oneByOne.Current.Timestamp, Encoding.UTF8.GetString(oneByOne.Current.Line)));
            }

            using var inRuns = ingester.OpenEntries("fake", stream, query);
            Assert.True(inRuns.HandsOutRuns);
            var read = new List<(long, string)>();
            var longest = 0;
            while (inRuns.MoveNext())
            {
                if (!inRuns.TryTakeRun(long.MaxValue, out var run))
                {
                    read.Add((inRuns.Current.Timestamp, Encoding.UTF8.GetString(inRuns.Current.Line)));
                    continue;
                }

                longest = Math.Max(longest, run.End - run.Start);
                for (var i = run.Start; i < run.End; i++)
                {
                    read.Add((run.Block[i].Timestamp, Encoding.UTF8.GetString(run.Block[i].Line)));
                }
            }

            Assert.Equal(expected, read);
            Assert.True(longest > 1);
            Assert.Contains(expected, e => e.Item2.StartsWith("d-", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Without_a_usable_spill_directory_parts_stay_in_memory_and_everything_works()
    {
        var blocked = Path.Combine(_directory, "not-a-directory");
        await File.WriteAllTextAsync(blocked, "a file where the spill directory would be");
        var (ingester, store) = Open(spillDirectory: blocked);
        using (store)
        using (ingester)
        {
            var line = new string('m', 300);
            var expected = Enumerable.Range(0, 2000).Select(i => (Now + i, $"{i:D4} {line}")).ToList();
            foreach (var push in expected.Chunk(250))
            {
                Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", push)).StatusCode);
            }

            Assert.Equal(0, ingester.SpilledBytes);
            Assert.Equal(expected, ReadAll(ingester));
            await ingester.FlushAsync(force: true, CancellationToken.None);
            Assert.Equal(expected, ReadAll(store));
        }
    }

    [Fact]
    public async Task Spilled_parts_of_a_retained_block_stay_readable_until_the_retain_period_is_over()
    {
        var time = new ManualTime();
        var (ingester, store) = Open(retainFlushed: TimeSpan.FromMinutes(15), time: time);
        using (store)
        using (ingester)
        {
            var line = new string('r', 300);
            var expected = Enumerable.Range(0, 2000).Select(i => (Now + i, $"{i:D4} {line}")).ToList();
            foreach (var push in expected.Chunk(250))
            {
                Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", push)).StatusCode);
            }

            await ingester.FlushAsync(force: true, CancellationToken.None);
            Assert.True(ingester.SpilledBytes > 0);
            Assert.Equal(expected, ReadAll(ingester));
            Assert.Equal(expected, ReadAll(store));

            time.Now += TimeSpan.FromMinutes(16);
            await ingester.FlushAsync(force: false, CancellationToken.None);
            Assert.Equal(0, ingester.SpilledBytes);
            Assert.Empty(ReadAll(ingester));
        }
    }

    [Fact]
    public async Task Entries_of_one_timestamp_keep_their_arrival_order_when_an_unsorted_tail_is_compressed()
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            // The second push is older than the first and all of one timestamp; the head compresses its tail part
            // way through it, so the tail sorted then holds hundreds of equal timestamps.
            var line = new string('z', 200);
            (long, string)[] newer = [.. Enumerable.Range(0, 700).Select(i => (Now + 10_000 + i, $"a-{i:D3} {line}"))];
            (long, string)[] tied = [.. Enumerable.Range(0, 700).Select(i => (Now + 5_000, $"b-{i:D3} {line}"))];
            Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", newer)).StatusCode);
            Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", tied)).StatusCode);

            Assert.Equal([.. tied, .. newer], ReadAll(ingester));
        }
    }

    [Theory]
    [InlineData(20)] // runs apart in time: compressed run by run
    [InlineData(11)] // each run's first timestamp is the previous run's last: ties, arrival order decides
    [InlineData(6)] // runs overlapping in time: every entry sorted
    public async Task Pushes_of_a_stream_that_overtake_each_other_are_compressed_in_time_then_arrival_order(int step)
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            // Runs of 12 entries, each a push, sent in an order shuffled within windows of four (as pushes over four
            // connections arrive); lines long enough that the tail is compressed a few times along the way.
            var line = new string('q', 600);
            var rng = new Random(step);
            var runs = Enumerable.Range(0, 120)
                .Select(run => Enumerable.Range(0, 12).Select(i => (Ts: Now + (run * step) + i, Line: $"{run:D3}-{i:D2} {line}")).ToArray())
                .ToList();
            var sent = new List<(long Ts, string Line)>();
            for (var window = 0; window < runs.Count; window += 4)
            {
                foreach (var run in runs.Skip(window).Take(4).OrderBy(_ => rng.Next()))
                {
                    Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", run)).StatusCode);
                    sent.AddRange(run);
                }
            }

            // Time order, then arrival (a stable sort of what was sent).
            var expected = sent.Select((entry, arrival) => (entry, arrival)).OrderBy(e => e.entry.Ts).ThenBy(e => e.arrival).Select(e => e.entry).ToList();
            Assert.Equal(expected, ReadAll(ingester));
            await ingester.FlushAsync(force: true, CancellationToken.None);
            Assert.Equal(expected, ReadAll(store));
        }
    }

    [Fact]
    public async Task Entries_larger_than_a_tail_segment_are_kept_whole_between_small_ones()
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            var expected = new List<(long, string)>();
            for (var push = 0; push < 12; push++)
            {
                (long, string)[] entries = [(Now + (push * 10), $"small {push}"), (Now + (push * 10) + 1, new string((char)('a' + push), 40_000 + push))];
                Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", entries)).StatusCode);
                expected.AddRange(entries);
            }

            Assert.Equal(expected, ReadAll(ingester));
            await ingester.FlushAsync(force: true, CancellationToken.None);
            Assert.Equal(expected, ReadAll(store));
        }
    }

    [Fact]
    public async Task A_needle_search_over_spilled_parts_reads_their_tables_and_filters_not_the_parts()
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            var all = await PushSpilledNeedleLinesAsync(ingester, at: 1234, seed: 7);
            var (rows, stats) = SearchNeedle(ingester);
            Assert.Equal([(all[1234].Ts, all[1234].Line)], rows);

            // At most the part holding the needle is loaded whole; of the others only their tables and filters.
            Assert.True(stats.BlocksSkippedByContent > 0);
            Assert.True(stats.LoadedBytes < ingester.SpilledBytes / 2, $"loaded {stats.LoadedBytes} of {ingester.SpilledBytes}");
        }
    }

    [Fact]
    public async Task A_repeated_needle_search_over_spilled_parts_reads_no_table_or_filter_again()
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            var all = await PushSpilledNeedleLinesAsync(ingester, at: 2345, seed: 11);
            var first = SearchNeedle(ingester);
            var second = SearchNeedle(ingester);
            Assert.Equal([(all[2345].Ts, all[2345].Line)], first.Rows);
            Assert.Equal(first.Rows, second.Rows);
            Assert.True(first.Stats.BlocksSkippedByContent > 0);
            Assert.Equal(first.Stats.BlocksSkippedByContent, second.Stats.BlocksSkippedByContent);
            Assert.Equal(first.Stats.BlocksDecoded, second.Stats.BlocksDecoded);

            // The first search read every skipped part's tail; the second finds them kept and loads only the part it decodes.
            Assert.True(second.Stats.LoadedBytes < first.Stats.LoadedBytes, $"loaded {second.Stats.LoadedBytes}, then {first.Stats.LoadedBytes}");
        }
    }

    [Fact]
    public async Task A_needle_search_finds_lines_in_parts_whose_sieve_columns_were_reused_and_in_the_tail()
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            var all = await PushSpilledNeedleLinesAsync(ingester, at: 100, seed: 3);
            Assert.Equal([(all[100].Ts, all[100].Line)], SearchNeedle(ingester).Rows);

            // The parts leave the head (their kept tails and sieve columns are given back); new parts take the columns.
            await ingester.FlushAsync(force: true, CancellationToken.None);
            Assert.Equal(0, ingester.SpilledBytes);
            var next = await PushSpilledNeedleLinesAsync(ingester, at: 1700, seed: 5, from: 10_000);

            // A needle no part holds: the first search reads every part's tail; the second rules them all out from the
            // sieve, opening none, and counts what the first did.
            var (absent, reread) = (SearchNeedle(ingester, "0123456789abcdef"), SearchNeedle(ingester, "0123456789abcdef"));
            Assert.Empty(absent.Rows);
            Assert.Empty(reread.Rows);
            Assert.True(absent.Stats.BlocksSkippedByContent > 1);
            Assert.Equal((absent.Stats.Chunks, absent.Stats.BlocksSkippedByContent, absent.Stats.SkippedByContentBytes, absent.Stats.BlocksDecoded),
                (reread.Stats.Chunks, reread.Stats.BlocksSkippedByContent, reread.Stats.SkippedByContentBytes, reread.Stats.BlocksDecoded));
            Assert.True(absent.Stats.LoadedBytes > 0);
            Assert.Equal(0, reread.Stats.LoadedBytes);

            var first = SearchNeedle(ingester);
            var second = SearchNeedle(ingester);
            Assert.Equal([(next[1700].Ts, next[1700].Line)], first.Rows);
            Assert.Equal(first.Rows, second.Rows);
            Assert.True(second.Stats.BlocksSkippedByContent > 0);

            // The last line is still in the uncompressed tail: found there, and a needle found nowhere returns nothing.
            var last = await PushSpilledNeedleLinesAsync(ingester, at: 2999, seed: 9, from: 20_000);
            Assert.Equal([(next[1700].Ts, next[1700].Line), (last[2999].Ts, last[2999].Line)], SearchNeedle(ingester).Rows);
            Assert.Empty(SearchNeedle(ingester, "0123456789abcdef").Rows);
        }
    }

    private const string Needle = "7f3a9c1b2e4d5f60";

    /// <summary>
    /// 3,000 lines of one stream, spilled to head parts: letters that barely compress (so a part is far larger than its
    /// table and filters) after a request id with digits, <see cref="Needle"/> only on line <paramref name="at"/>.
    /// </summary>
    private static async Task<(long Ts, string Line)[]> PushSpilledNeedleLinesAsync(StreamIngester ingester, int at, int seed, int from = 0)
    {
        var random = new Random(seed);
        var all = Enumerable.Range(0, 3000).Select(i => (Ts: Now + from + i,
            Line: $"{i:D4} request_id={(i == at ? Needle : $"{i:x16}")} {new string(random.GetItems<char>("abcdefghijklmnopqrstuvwxyz", 300))}"))
            .ToArray();
        foreach (var push in all.Chunk(250))
        {
            Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", push)).StatusCode);
        }

        Assert.True(ingester.SpilledBytes > 0);
        return all;
    }

    /// <summary>The head's lines holding <see cref="Needle"/>, read through the line filter's content prefilter, with the read's stats.</summary>
    private static (List<(long, string)> Rows, ReadStats Stats) SearchNeedle(StreamIngester ingester, string needle = Needle)
    {
        var pipeline = LogQL.Pipeline.LogPipeline.Compile(LogQL.Syntax.LogQLParser.ParseLogSelector($"{{app=\"web\"}} |= \"{needle}\""));
        var filter = new Storage.ContentIndex.LiteralPrefilter(pipeline.LiteralRequirements);
        var stream = ingester.SelectStreams("fake", [], 0, long.MaxValue)[0];
        var rows = new List<(long, string)>();
        using var entries = ingester.OpenEntries("fake", stream, new EntryQuery(0, long.MaxValue, Filter: filter));
        while (entries.MoveNext())
        {
            rows.Add((entries.Current.Timestamp, Encoding.UTF8.GetString(entries.Current.Line)));
        }

        return (rows, entries.Stats);
    }

    [Fact]
    public async Task A_filtered_head_read_returns_the_matching_lines_of_parts_and_tail()
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            // About 1.5 parts of 200-byte lines, every seventh one declined, pushed newest push first so tails are
            // out of order.
            var line = new string('p', 200);
            var all = Enumerable.Range(0, 2000).Select(i => (Ts: Now + i, Line: $"{i:D4} payment {(i % 7 == 0 ? "declined" : "accepted")} {line}")).ToArray();
            foreach (var push in all.Chunk(100).Reverse())
            {
                Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", push)).StatusCode);
            }

            var pipeline = LogQL.Pipeline.LogPipeline.Compile(LogQL.Syntax.LogQLParser.ParseLogSelector("{app=\"web\"} |= \"declined\""));
            var filter = new Storage.ContentIndex.LiteralPrefilter(pipeline.LiteralRequirements);
            var stream = ingester.SelectStreams("fake", [], 0, long.MaxValue)[0];
            var rows = new List<(long, string)>();
            using (var entries = ingester.OpenEntries("fake", stream, new EntryQuery(0, long.MaxValue, Filter: filter)))
            {
                while (entries.MoveNext())
                {
                    rows.Add((entries.Current.Timestamp, Encoding.UTF8.GetString(entries.Current.Line)));
                }
            }

            Assert.Equal(all.Where(e => e.Line.Contains("declined", StringComparison.Ordinal)).Select(e => (e.Ts, e.Line)), rows);
        }
    }

    [Fact]
    public async Task Pushed_entries_are_readable_from_the_head_in_time_order()
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", (Now + 2, "b"), (Now + 1, "a"), (Now + 3, "c"))).StatusCode);

            Assert.Equal([(Now + 1, "a"), (Now + 2, "b"), (Now + 3, "c")], ReadAll(ingester));
        }
    }

    [Fact]
    public async Task Concurrent_pushers_continue_off_the_WAL_commit_thread_and_find_their_entries_in_the_head()
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            // The answer, and whatever the caller does next (here: disposing the ingester, which waits for the commit
            // thread), must not run on the commit thread.
            var pushes = Task.WhenAll(Enumerable.Range(0, 20).Select(i => ThreadAfterPush(ingester, i)));

            // This test goes on on the pool whichever thread ends the pushes: a regression fails the assertion below
            // instead of hanging in the dispose.
            await pushes.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            var threads = await pushes;
            Assert.DoesNotContain("wal-commit", threads);
            Assert.Equal(20, ReadAll(ingester).Count);
        }
    }

    private static async Task<string?> ThreadAfterPush(StreamIngester ingester, int i)
    {
        var outcome = await PushAsync(ingester, "{app=\"web\"}", (Now + i, "line " + i)).ConfigureAwait(false);
        Assert.Equal(204, outcome.StatusCode);
        return Thread.CurrentThread.Name;
    }

    [Fact]
    public async Task A_crash_without_flush_loses_nothing_acknowledged()
    {
        var (ingester, store) = Open();
        var pushes = Enumerable.Range(0, 50).Select(i => PushAsync(ingester, "{app=\"web\"}", (Now + i, "line " + i))).ToList();
        await Task.WhenAll(pushes);
        Assert.All(pushes, p => Assert.Equal(204, p.Result.StatusCode));

        // No StopAsync: the process dies with everything only in the head and the WAL.
        var (restarted, store2) = Restart(ingester, store);
        using (store2)
        using (restarted)
        {
            Assert.Equal(50, restarted.ReplayedEntries);
            Assert.Equal(Enumerable.Range(0, 50).Select(i => (Now + i, "line " + i)), ReadAll(restarted));
        }
    }

    [Fact]
    public async Task Flushed_entries_are_not_stored_again_after_a_restart()
    {
        var (ingester, store) = Open();
        await PushAsync(ingester, "{app=\"web\"}", (Now, "flushed"));
        await ingester.FlushAsync(force: true, CancellationToken.None);
        await PushAsync(ingester, "{app=\"web\"}", (Now + 1, "unflushed"));
        var (restarted, store2) = Restart(ingester, store);
        using (store2)
        using (restarted)
        {
            Assert.Equal(1, restarted.ReplayedEntries);
            Assert.Equal([(Now, "flushed")], ReadAll(store2));
            Assert.Equal([(Now + 1, "unflushed")], ReadAll(restarted));
            await restarted.StopAsync(CancellationToken.None);
            Assert.Equal([(Now, "flushed"), (Now + 1, "unflushed")], ReadAll(store2).OrderBy(r => r.Ts));
        }
    }

    [Fact]
    public async Task A_flush_of_everything_leaves_no_WAL_segment_with_records_and_later_pushes_still_replay()
    {
        var (ingester, store) = Open();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", (Now + i, new string('x', 1000) + i))).StatusCode);
        }

        var walDirectory = Path.Combine(_directory, "wal");
        await ingester.FlushAsync(force: true, CancellationToken.None);

        // Only the fresh segment remains, holding nothing but its header: the flushed data lives in chunks only.
        var segments = Directory.GetFiles(walDirectory, "*.wal");
        Assert.Single(segments);
        Assert.Equal(8, WalSegments.RecordsEnd(segments[0]));

        await PushAsync(ingester, "{app=\"web\"}", (Now + 100, "after the flush"));
        var (restarted, store2) = Restart(ingester, store);
        using (store2)
        using (restarted)
        {
            Assert.Equal(1, restarted.ReplayedEntries);
            Assert.Equal([(Now + 100, "after the flush")], ReadAll(restarted));
            Assert.Equal(20, ReadAll(store2).Count);
        }
    }

    [Fact]
    public async Task A_replay_that_outgrows_the_head_flushes_without_dropping_segments_still_to_replay()
    {
        // Small segments: the 40 pushes spread over many of them.
        var (ingester, store) = Open(walSegmentSize: 2048);
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", (Now + i, new string('x', 500) + i))).StatusCode);
        }

        ingester.Dispose();
        store.Dispose();

        // A head bound of a few entries makes replay store what it gathered, again and again.
        var (restarted, store2) = Open(maxHeadBytes: 4096, walSegmentSize: 2048);
        using (store2)
        using (restarted)
        {
            Assert.Equal(40, restarted.ReplayedEntries);
            var all = ReadAll(store2).Concat(ReadAll(restarted)).OrderBy(r => r.Ts).ToList();
            Assert.Equal(Enumerable.Range(0, 40).Select(i => (Now + i, new string('x', 500) + i)), all);
        }
    }

    [Fact]
    public async Task Entries_behind_the_out_of_order_window_are_refused_with_Lokis_text()
    {
        var (ingester, store) = Open(maxChunkAge: TimeSpan.FromHours(2));
        using (store)
        using (ingester)
        {
            await PushAsync(ingester, "{app=\"web\"}", (Now, "newest"));
            var late = Now - TimeSpan.FromMinutes(61).Ticks * 100;

            var outcome = await PushAsync(ingester, "{app=\"web\"}", (late, "late"), (Now - 1, "in window"));

            Assert.Equal(400, outcome.StatusCode);
            Assert.StartsWith("entry with timestamp ", outcome.Message, StringComparison.Ordinal);
            Assert.Contains(" +0000 UTC ignored, reason: 'entry too far behind, entry timestamp is: ", outcome.Message, StringComparison.Ordinal);
            Assert.EndsWith("',\nuser 'fake', total ignored: 1 out of 2 for stream: {app=\"web\", service_name=\"web\"}", outcome.Message, StringComparison.Ordinal);
            Assert.Equal([(Now - 1, "in window"), (Now, "newest")], ReadAll(ingester));
        }
    }

    [Fact]
    public async Task Entries_dropped_within_a_push_leave_the_others_in_head_and_WAL()
    {
        var (ingester, store) = Open(maxChunkAge: TimeSpan.FromHours(2));
        var late = Now - TimeSpan.FromMinutes(61).Ticks * 100;
        await PushAsync(ingester, "{app=\"web\"}", (Now, "a"));
        Assert.Equal(400, (await PushAsync(ingester, "{app=\"web\"}", (Now + 1, "b"), (late, "late"), (Now + 2, "c"))).StatusCode);
        Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", (Now + 2, "c"), (Now + 3, "d"))).StatusCode);
        (long, string)[] expected = [(Now, "a"), (Now + 1, "b"), (Now + 2, "c"), (Now + 3, "d")];
        Assert.Equal(expected, ReadAll(ingester));

        // The WAL holds what the head accepted, no more: a restart replays the same entries.
        ingester.Dispose();
        store.Dispose();
        var (restarted, store2) = Open(maxChunkAge: TimeSpan.FromHours(2));
        using (store2)
        using (restarted)
        {
            Assert.Equal(expected, ReadAll(restarted));
        }
    }

    [Fact]
    public async Task An_exact_resend_of_the_last_entry_is_dropped_silently()
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            await PushAsync(ingester, "{app=\"web\"}", (Now, "same"));
            var outcome = await PushAsync(ingester, "{app=\"web\"}", (Now, "same"));

            Assert.Equal(204, outcome.StatusCode);
            Assert.Equal([(Now, "same")], ReadAll(ingester));
        }
    }

    [Fact]
    public async Task The_resend_check_compares_the_whole_last_line_whatever_the_lengths_before_it()
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            // The last line is kept in a buffer reused from push to push: a shorter line after a longer one, and a
            // line of the same length with other bytes, must still compare by their own bytes only.
            await PushAsync(ingester, "{app=\"web\"}", (Now, "a long line that leaves a large buffer behind"));
            await PushAsync(ingester, "{app=\"web\"}", (Now + 1, "short"));
            var resend = await PushAsync(ingester, "{app=\"web\"}", (Now + 1, "short"));
            var sameLength = await PushAsync(ingester, "{app=\"web\"}", (Now + 1, "shore"));
            var longer = await PushAsync(ingester, "{app=\"web\"}", (Now + 1, "shore, then a longer line than any before it"));
            var longerResend = await PushAsync(ingester, "{app=\"web\"}", (Now + 1, "shore, then a longer line than any before it"));

            Assert.Equal([204, 204, 204, 204], new[] { resend.StatusCode, sameLength.StatusCode, longer.StatusCode, longerResend.StatusCode });
            Assert.Equal(
                [(Now, "a long line that leaves a large buffer behind"), (Now + 1, "short"), (Now + 1, "shore"),
                    (Now + 1, "shore, then a longer line than any before it")],
                ReadAll(ingester));
        }
    }

    [Fact]
    public async Task The_stream_limit_answers_429_and_keeps_existing_streams()
    {
        var (ingester, store) = Open(new IngestionLimits { MaxGlobalStreamsPerUser = 1 });
        using (store)
        using (ingester)
        {
            await PushAsync(ingester, "{app=\"web\"}", (Now, "first"));
            var outcome = await PushAsync(ingester, "{app=\"api\"}", (Now, "second"));

            Assert.Equal(429, outcome.StatusCode);
            Assert.Equal("maximum active stream limit exceeded when trying to create stream {app=\"api\", service_name=\"api\"}, " +
                "reduce the number of active streams (reduce labels or reduce label values), " +
                "or contact your Loki administrator to see if the limit can be increased, user: 'fake'", outcome.Message);
            Assert.Equal(1, ingester.StreamCount("fake"));
        }
    }

    [Fact]
    public async Task The_tenant_rate_limit_rejects_the_whole_push()
    {
        var (ingester, store) = Open(new IngestionLimits { IngestionRateBytes = 10, IngestionBurstBytes = 10 });
        using (store)
        using (ingester)
        {
            var error = await Assert.ThrowsAsync<PushRequestException>(() => PushAsync(ingester, "{app=\"web\"}", (Now, "more than ten bytes")));

            Assert.Equal(429, error.StatusCode);
            Assert.Equal("ingestion rate limit exceeded for user fake (limit: 10 bytes/sec) while attempting to ingest '1' lines totaling '19' bytes, " +
                "reduce log volume or contact your Loki administrator to see if the limit can be increased", error.Message);
            Assert.Empty(ReadAll(ingester));
        }
    }

    [Fact]
    public async Task Tenants_are_isolated()
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            using var batch = new PushBatch();
            batch.BeginStream("{app=\"web\"}");
            batch.AddEntry(Now, "tenant a"u8);
            await ingester.PushAsync("a", batch, CancellationToken.None);

            Assert.Empty(ReadAll(ingester));
            Assert.Single(ingester.SelectStreams("a", [new LabelMatcher("app", MatchType.Equal, "web")], 0, long.MaxValue));
        }
    }

    [Fact]
    public async Task A_push_whose_stream_the_idle_sweep_forgets_after_the_lookup_goes_to_the_stream_that_replaces_it()
    {
        var time = new ManualTime();
        var (ingester, store) = Open(time: time);
        using (store)
        using (ingester)
        {
            await PushAsync(ingester, "{app=\"web\"}", (Now, "before the sweep"));
            await ingester.FlushAsync(force: true, CancellationToken.None);
            time.Now += TimeSpan.FromHours(1);

            // The sweep runs between the next push's lookup of the (stored, empty, idle) stream and its admission. Appending
            // to the forgotten stream object would leave the entry where no flush or query looks.
            var sweeps = 0;
            ingester.StreamLookedUp = _ =>
            {
                if (sweeps++ == 0)
                {
                    ingester.FlushAsync(force: false, CancellationToken.None).GetAwaiter().GetResult();
                    Assert.Empty(ingester.SelectStreams("fake", [new LabelMatcher("app", MatchType.Equal, "web")], 0, long.MaxValue));
                }
            };
            Assert.Equal(204, (await PushAsync(ingester, "{app=\"web\"}", (Now + 1, "after the sweep"))).StatusCode);

            Assert.Equal([(Now + 1, "after the sweep")], ReadAll(ingester));
            await ingester.FlushAsync(force: true, CancellationToken.None);
            Assert.Equal([(Now, "before the sweep"), (Now + 1, "after the sweep")], ReadAll(store));
            Assert.Equal(2, sweeps); // the push looked the stream up again
        }
    }

    [Fact]
    public async Task Tenants_pushing_the_same_label_text_in_turn_each_write_to_their_own_stream()
    {
        // The validator's answer for a label text, with the head stream it went to last, serves every tenant of the same
        // limits: a push must still land in its own tenant's stream.
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            foreach (var (tenant, ts) in new[] { ("a", Now), ("b", Now + 1), ("a", Now + 2), ("b", Now + 3) })
            {
                using var batch = new PushBatch();
                batch.BeginStream("{app=\"web\"}");
                batch.AddEntry(ts, Encoding.UTF8.GetBytes(tenant));
                Assert.Equal(204, (await ingester.PushAsync(tenant, batch, CancellationToken.None)).StatusCode);
            }

            foreach (var (tenant, expected) in new[] { ("a", new[] { Now, Now + 2 }), ("b", new[] { Now + 1, Now + 3 }) })
            {
                var rows = new List<(long, string)>();
                foreach (var stream in ingester.SelectStreams(tenant, [new LabelMatcher("app", MatchType.Equal, "web")], 0, long.MaxValue))
                {
                    using var entries = ingester.OpenEntries(tenant, stream, new EntryQuery(0, long.MaxValue));
                    while (entries.MoveNext())
                    {
                        rows.Add((entries.Current.Timestamp, Encoding.UTF8.GetString(entries.Current.Line)));
                    }
                }

                Assert.Equal(expected.Select(ts => (ts, tenant)), rows);
            }
        }
    }

    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task Flushed_blocks_stay_readable_and_counted_for_the_retain_period_then_leave()
    {
        var time = new ManualTime();
        var (ingester, store) = Open(retainFlushed: TimeSpan.FromMinutes(15), time: time);
        using (store)
        using (ingester)
        {
            await PushAsync(ingester, "{app=\"web\"}", (Now, "kept"), (Now + 1, "after flushing"));
            var bytes = ingester.HeadBytes;
            await ingester.FlushAsync(force: true, CancellationToken.None);

            // Stored, and still answered by the head (readers remove the duplicate) with its memory still counted.
            Assert.Equal([(Now, "kept"), (Now + 1, "after flushing")], ReadAll(store));
            Assert.Equal([(Now, "kept"), (Now + 1, "after flushing")], ReadAll(ingester));
            Assert.Equal(bytes, ingester.HeadBytes);

            // Stats and volumes are the store's to count once stored.
            Assert.Equal(default, ingester.Stats("fake", [], 0, long.MaxValue));
            Assert.Empty(ingester.Volumes("fake", [], 0, long.MaxValue));

            // New entries are flushed on their own; the retained block is not stored twice.
            await PushAsync(ingester, "{app=\"web\"}", (Now + 2, "later"));
            time.Now += TimeSpan.FromMinutes(14);
            await ingester.FlushAsync(force: true, CancellationToken.None);
            Assert.Equal(3, ReadAll(store).Count);
            Assert.Equal(3, ReadAll(ingester).Count);

            time.Now += TimeSpan.FromMinutes(2);
            await ingester.FlushAsync(force: false, CancellationToken.None);
            Assert.Equal([(Now + 2, "later")], ReadAll(ingester));

            time.Now += TimeSpan.FromMinutes(15);
            await ingester.FlushAsync(force: false, CancellationToken.None);
            Assert.Empty(ReadAll(ingester));
            Assert.Equal(0, ingester.HeadBytes);
            Assert.Equal(3, ReadAll(store).Count);
        }
    }

    [Fact]
    public async Task Without_a_retain_period_flushed_blocks_leave_the_head_at_once()
    {
        var (ingester, store) = Open();
        using (store)
        using (ingester)
        {
            await PushAsync(ingester, "{app=\"web\"}", (Now, "gone from the head"));
            await ingester.FlushAsync(force: true, CancellationToken.None);

            Assert.Empty(ReadAll(ingester));
            Assert.Equal(0, ingester.HeadBytes);
            Assert.Single(ReadAll(store));
        }
    }
}
