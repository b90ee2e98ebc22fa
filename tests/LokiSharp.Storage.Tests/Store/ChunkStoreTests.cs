using System.Buffers.Binary;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Reading;
using LokiSharp.Storage.Store;
using static LokiSharp.Storage.Tests.TestData;

namespace LokiSharp.Storage.Tests.Store;

public sealed class ChunkStoreTests
{
    private static readonly LabelMatcher AppApi = new("app", LogQL.Labels.MatchType.Equal, "api");

    [Fact]
    public void WrittenChunksAreQueryableAndSurviveRestart()
    {
        using var dir = new TempDirectory();
        var api = Labels(("app", "api"), ("env", "prod"));
        var web = Labels(("app", "web"));
        using (var store = ChunkStore.Open(Options(dir.Path)))
        {
            store.Write("tenant-a", [Chunk(api, Lines(Base, Second, 500)), Chunk(web, Lines(Base, Second, 10, "web"))]);
            store.Write("tenant-a", [Chunk(api, Lines(Base + (500 * Second), Second, 500, "later"))]);
            store.Write("other", [Chunk(api, Lines(Base, Second, 3))]);
            AssertContents(store);
        }

        using (var reopened = ChunkStore.Open(Options(dir.Path)))
        {
            AssertContents(reopened);
            Assert.Equal(["other", "tenant-a"], reopened.Tenants());
        }

        void AssertContents(ChunkStore store)
        {
            var streams = store.SelectStreams("tenant-a", [AppApi], Base, Base + Day);
            Assert.Equal(api, Assert.Single(streams).Labels);
            var entries = ReadAll(store, "tenant-a", api, new EntryQuery(Base, Base + Day), out var warnings);
            Assert.Empty(warnings);
            Assert.Equal(1000, entries.Count);
            Assert.Equal("line 0 level=info msg=hello", entries[0].Line);
            Assert.Equal("later 499 level=info msg=hello", entries[^1].Line);
            Assert.Equal(3, ReadAll(store, "other", api, new EntryQuery(Base, Base + Day), out _).Count);
            Assert.Equal(["app", "env"], store.LabelNames("tenant-a", [], Base, Base + Day));
            Assert.Equal(["api", "web"], store.LabelValues("tenant-a", "app", [], Base, Base + Day));
            var stats = store.Stats("tenant-a", [], Base, Base + Day);
            Assert.Equal(2, stats.Streams);
            Assert.Equal(3, stats.Chunks);
            Assert.Equal(1010, stats.Entries);
            var volumes = store.Volumes("tenant-a", [], Base, Base + Day);
            Assert.Equal(api, volumes[0].Labels);
            Assert.True(volumes[0].Bytes > volumes[1].Bytes);
            Assert.Empty(store.SelectStreams("tenant-a", [AppApi], Base + Day, Base + (2 * Day)));
            Assert.Empty(store.SelectStreams("nobody", [AppApi], Base, Base + Day));
        }
    }

    [Fact]
    public void IterationHonoursRangeAndDirectionAcrossOverlappingChunks()
    {
        using var dir = new TempDirectory();
        using var store = ChunkStore.Open(Options(dir.Path));
        var s = Labels(("app", "api"));

        // Two overlapping chunks (odd and even seconds) and one disjoint later chunk.
        store.Write("t", [
            Chunk(s, Lines(Base, 2 * Second, 400, "even")),
            Chunk(s, Lines(Base + Second, 2 * Second, 400, "odd")),
        ]);
        store.Write("t", [Chunk(s, Lines(Base + (1000 * Second), Second, 100, "late"))]);

        var all = ReadAll(store, "t", s, new EntryQuery(Base, Base + Day), out _);
        Assert.Equal(900, all.Count);
        Assert.True(all.Select(e => e.Ts).SequenceEqual(all.Select(e => e.Ts).Order()));

        var from = Base + (100 * Second);
        var through = Base + (1050 * Second);
        var forward = ReadAll(store, "t", s, new EntryQuery(from, through), out _);
        var backward = ReadAll(store, "t", s, new EntryQuery(from, through, Direction.Backward), out _);
        var expected = all.Where(e => e.Ts >= from && e.Ts < through).ToList();
        Assert.Equal(expected.Select(e => e.Ts), forward.Select(e => e.Ts));
        Assert.Equal(expected.Select(e => e.Ts).Reverse(), backward.Select(e => e.Ts));
        Assert.Equal(from, forward[0].Ts);
        Assert.Equal(through - Second, backward[0].Ts);
    }

    [Fact]
    public void BlocksOutsideTheRangeAreSkipped()
    {
        using var dir = new TempDirectory();
        using var store = ChunkStore.Open(Options(dir.Path));
        var s = Labels(("app", "api"));
        store.Write("t", [Chunk(s, Lines(Base, Second, 5000), blockSize: 4096)]);
        using var it = store.OpenEntries("t", new SelectedStream(s, 0),
            new EntryQuery(Base + (2500 * Second), Base + (2510 * Second)));
        var n = 0;
        while (it.MoveNext())
        {
            n++;
        }

        Assert.Equal(10, n);
        Assert.True(it.Stats.BlocksDecoded <= 2);
        Assert.True(it.Stats.BlocksSkippedByTime > 10);
    }

    [Fact]
    public void LineFilterSkipsBlocksThroughContentFilters()
    {
        using var dir = new TempDirectory();
        using var store = ChunkStore.Open(Options(dir.Path));
        var s = Labels(("app", "shop"));
        var rng = new Random(3);
        var lines = Enumerable.Range(0, 60_000).Select(i => (Base + (i * Second),
            i == 42_345
                ? "payment declined for order " + i
                : $"level=info method=GET path=/api/items/{rng.Next(1000)} status=200 user=u{rng.Next(500)} took={rng.Next(900)}ms")).ToList();
        store.Write("t", [Chunk(s, lines, Codecs.ChunkEncoding.Zstd, blockSize: 256 * 1024)]);
        using var it = store.OpenEntries("t", new SelectedStream(s, 0),
            new EntryQuery(Base, Base + Day, Filter: new LiteralPrefilter("declined")));
        var found = new List<long>();
        while (it.MoveNext())
        {
            found.Add(it.Current.Timestamp);
        }

        Assert.Equal([Base + (42_345 * Second)], found);
        Assert.True(it.Stats.BlocksSkippedByContent > it.Stats.BlocksDecoded * 5,
            $"skipped {it.Stats.BlocksSkippedByContent}, decoded {it.Stats.BlocksDecoded}");
    }

    [Fact]
    public void NeedleIdSearchLoadsOnlyTheChunksThatMayHoldIt()
    {
        using var dir = new TempDirectory();
        using var store = ChunkStore.Open(Options(dir.Path));
        var s = Labels(("app", "shop"));
        var rng = new Random(7);
        string Id() => rng.NextInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        var needle = "";
        var chunks = new List<(long, string)>[40];
        for (var c = 0; c < chunks.Length; c++)
        {
            chunks[c] = [.. Enumerable.Range(0, 2000).Select(i =>
            {
                var id = Id();
                if (c == 23 && i == 1234)
                {
                    needle = id;
                }

                // As the perf dataset's django lines: one id among a hundred bytes of other fields.
                return (Base + (((c * 2000) + i) * Second), $"{{\"level\":\"info\",\"message\":\"order created\",\"logger\":\"shop.views\"," +
                    $"\"status\":{200 + (i % 3)},\"duration_ms\":{rng.Next(90_000) / 100.0},\"user\":{{\"id\":{rng.Next(500)}}},\"request_id\":\"{id}\"}}");
            })];
        }

        store.Write("t", [.. chunks.Select(lines => Chunk(s, lines, blockSize: 256 * 1024))]);
        using var it = store.OpenEntries("t", new SelectedStream(s, 0), new EntryQuery(Base, Base + Day, Filter: new LiteralPrefilter(needle)));
        var found = new List<long>();
        while (it.MoveNext())
        {
            found.Add(it.Current.Timestamp);
        }

        Assert.Equal([Base + (((23 * 2000) + 1234) * Second)], found);

        // Every chunk is referenced; all but the needle's (and rare false positives) are judged from their tails alone.
        Assert.Equal(40, it.Stats.Chunks);
        Assert.True(it.Stats.BlocksDecoded is >= 1 and <= 3, $"decoded {it.Stats.BlocksDecoded}, skipped {it.Stats.BlocksSkippedByContent}");
        Assert.Equal(80, it.Stats.BlocksDecoded + it.Stats.BlocksSkippedByContent); // two blocks a chunk
        var stored = store.ChunksOf("t", s, Base, Base + Day).Sum(c => (long)c.Length);
        Assert.True(it.Stats.LoadedBytes < stored / 4, $"loaded {it.Stats.LoadedBytes} of {stored} bytes");

        // Again: the tails are cached, only the needle's chunk is read.
        using var again = store.OpenEntries("t", new SelectedStream(s, 0), new EntryQuery(Base, Base + Day, Filter: new LiteralPrefilter(needle)));
        Assert.True(again.MoveNext());
        Assert.False(again.MoveNext());
        var needleChunk = store.ChunksOf("t", s, Base, Base + Day).Single(c => c.From <= found[0] && c.Through >= found[0]);
        Assert.Equal(needleChunk.Length, again.Stats.LoadedBytes);
    }

    [Fact]
    public void RepeatedSearchesOverOneBlockChunksAnswerAndCountAsTheFirst()
    {
        // One-block chunks (as the head flushes them): once their tails are cached, searches judge them through the id
        // filter sieve. Every answer and count must equal the first search's, which checked each tail in full.
        using var dir = new TempDirectory();
        using var store = ChunkStore.Open(Options(dir.Path));
        var s = Labels(("app", "shop"));
        var rng = new Random(3);
        var ids = new List<string>();
        var chunks = new List<(long, string)>[120];
        for (var c = 0; c < chunks.Length; c++)
        {
            chunks[c] = [.. Enumerable.Range(0, 150).Select(i =>
            {
                var id = rng.NextInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
                ids.Add(id);
                return (Base + (((c * 150) + i) * Second), $"GET /orders/{i} status={200 + (i % 3)} request_id={id} user={rng.Next(500)}");
            })];
        }

        store.Write("t", [.. chunks.Select(lines => Chunk(s, lines, blockSize: 256 * 1024))]);
        var searches = new List<(LiteralPrefilter Filter, long From, long Through, Direction Direction)>
        {
            (new LiteralPrefilter(ids[5555]), Base, Base + Day, Direction.Forward),
            (new LiteralPrefilter(ids[17_000]), Base, Base + Day, Direction.Backward),
            (new LiteralPrefilter("ffffffff00000000"), Base, Base + Day, Direction.Forward),
            (new LiteralPrefilter(ids[100], "GET"), Base + (50 * Second), Base + (9000 * Second), Direction.Forward),
            (new LiteralPrefilter("status=201"), Base, Base + Day, Direction.Forward),
            (new LiteralPrefilter(ids[9000][..12]), Base + (8000 * Second), Base + (12_000 * Second), Direction.Backward),
        };
        foreach (var (filter, from, through, direction) in searches)
        {
            (List<long> Rows, ReadStats Stats) Search()
            {
                using var it = store.OpenEntries("t", new SelectedStream(s, 0), new EntryQuery(from, through, direction, filter));
                var rows = new List<long>();
                while (it.MoveNext())
                {
                    rows.Add(it.Current.Timestamp);
                }

                return (rows, it.Stats);
            }

            var first = Search();
            var second = Search();
            Assert.Equal(first.Rows, second.Rows);
            Assert.Equal(
                (first.Stats.Chunks, first.Stats.BlocksDecoded, first.Stats.BlocksSkippedByTime, first.Stats.BlocksSkippedByContent,
                    first.Stats.SkippedByContentBytes, first.Stats.CompressedBytes),
                (second.Stats.Chunks, second.Stats.BlocksDecoded, second.Stats.BlocksSkippedByTime, second.Stats.BlocksSkippedByContent,
                    second.Stats.SkippedByContentBytes, second.Stats.CompressedBytes));
        }

        // The needle searches skipped nearly every chunk, and found their line.
        using var needle = store.OpenEntries("t", new SelectedStream(s, 0), new EntryQuery(Base, Base + Day, Filter: new LiteralPrefilter(ids[5555])));
        Assert.True(needle.MoveNext());
        Assert.Equal(Base + (5555 * Second), needle.Current.Timestamp);
        Assert.False(needle.MoveNext());
        Assert.True(needle.Stats.BlocksSkippedByContent >= 115, $"skipped {needle.Stats.BlocksSkippedByContent}");

        // A needle no chunk holds is ruled out for every chunk at once; the skips count when the reader is first advanced.
        using var absent = store.OpenEntries("t", new SelectedStream(s, 0), new EntryQuery(Base, Base + Day, Filter: new LiteralPrefilter("ffffffff00000000")));
        Assert.Equal(0, absent.Stats.Chunks);
        Assert.False(absent.MoveNext());
        Assert.Equal((120, 120, 0), (absent.Stats.Chunks, absent.Stats.BlocksSkippedByContent, absent.Stats.BlocksDecoded));
    }

    [Fact]
    public void AStreamRuledOutWholeIsJudgedAgainOnceItGainsAChunkOrTheRangeChanges()
    {
        // Once its tails are cached, a stream the sieve rules out whole is judged from the summary the index keeps of it;
        // a chunk written to the stream later, holding the needle, must be found, and other ranges counted as read.
        using var dir = new TempDirectory();
        using var store = ChunkStore.Open(Options(dir.Path));
        var s = Labels(("app", "shop"));
        const string needle = "ffffffff00000000";
        store.Write("t", [.. Enumerable.Range(0, 30).Select(c => Chunk(s, Enumerable.Range(0, 100).Select(i =>
            (Base + (((c * 100) + i) * Second), $"GET /orders/{i} request_id={(c * 1_000_003L) + (i * 7919L):x16}")), blockSize: 256 * 1024))]);
        long skippedBytes = 0;
        (int Rows, int Chunks, int ByTime, int ByContent) Search(long from, long through) => SearchIn(from, through, Direction.Forward).Counts;
        (List<long> Rows, (int Rows, int Chunks, int ByTime, int ByContent) Counts) SearchIn(long from, long through, Direction direction)
        {
            using var it = store.OpenEntries("t", new SelectedStream(s, 0), new EntryQuery(from, through, direction, new LiteralPrefilter(needle)));
            var rows = new List<long>();
            while (it.MoveNext())
            {
                rows.Add(it.Current.Timestamp);
            }

            skippedBytes = it.Stats.SkippedByContentBytes;
            return (rows, (rows.Count, it.Stats.Chunks, it.Stats.BlocksSkippedByTime, it.Stats.BlocksSkippedByContent));
        }

        // The first search judges each chunk's tail in full; the second rules the stream out from its summary alone.
        Assert.Equal((0, 30, 0, 30), Search(Base, Base + Day));
        var bytesOfFirst = skippedBytes;
        Assert.Equal((0, 30, 0, 30), Search(Base, Base + Day));
        Assert.Equal(bytesOfFirst, skippedBytes);

        // Chunks 5 to 9 overlap [500 s, 1000 s); none overlaps [5000 s, 6000 s).
        Assert.Equal((0, 5, 0, 5), Search(Base + (500 * Second), Base + (1000 * Second)));
        Assert.Equal((0, 0, 0, 0), Search(Base + (5000 * Second), Base + (6000 * Second)));

        store.Write("t", [Chunk(s, [(Base + (3000 * Second), $"GET /orders request_id={needle}")])]);
        Assert.Equal((1, 31, 0, 30), Search(Base, Base + Day));
        Assert.Equal((1, 31, 0, 30), Search(Base, Base + Day));
        Assert.Equal((0, 30, 0, 30), Search(Base, Base + (3000 * Second)));

        // A chunk overlapping chunks 1 and 2 takes the stream's chunks out of time order: the reader sorts them with
        // their sieve entries, in both directions.
        var late = Base + (200 * Second) + (Second / 2);
        store.Write("t", [Chunk(s, [(late - Second, "GET /late request_id=0000000011111111"), (late, $"GET /late request_id={needle}")])]);
        for (var pass = 0; pass < 2; pass++)
        {
            var forward = SearchIn(Base, Base + Day, Direction.Forward);
            Assert.Equal([late, Base + (3000 * Second)], forward.Rows);
            Assert.Equal((2, 32, 0, 30), forward.Counts);
            var backward = SearchIn(Base, Base + Day, Direction.Backward);
            Assert.Equal([Base + (3000 * Second), late], backward.Rows);
            Assert.Equal((2, 32, 0, 30), backward.Counts);
            var some = SearchIn(Base + (150 * Second), Base + (300 * Second), Direction.Backward);
            Assert.Equal([late], some.Rows);
            Assert.Equal((1, 3, 0, 2), some.Counts);
        }
    }

    [Fact]
    public void SampleExtractionCountsWithoutStrings()
    {
        using var dir = new TempDirectory();
        using var store = ChunkStore.Open(Options(dir.Path));
        var s = Labels(("app", "api"));
        store.Write("t", [Chunk(s, Lines(Base, Second, 300))]);
        ILogSource source = store;
        var samples = new List<Sample>();
        var stats = source.ExtractSamples("t", new SelectedStream(s, 0), new EntryQuery(Base, Base + (100 * Second),
            Direction.Backward, new LiteralPrefilter("5")), null, samples);
        Assert.Equal(Enumerable.Range(0, 100).Count(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture).Contains('5')), samples.Count);
        Assert.True(samples.Select(x => x.Timestamp).SequenceEqual(samples.Select(x => x.Timestamp).Order()));
        Assert.Equal(1, stats.Chunks);

        samples.Clear();
        source.ExtractSamples("t", new SelectedStream(s, 0), new EntryQuery(Base, Base + Day),
            static (in e, out v) =>
            {
                v = e.Line.Length;
                return e.Line.Length > 27;
            }, samples);
        Assert.Equal(300 - 10, samples.Count);
    }

    [Fact]
    public void SchemaPeriodBoundariesAreRespected()
    {
        using var dir = new TempDirectory();
        var periods = new[]
        {
            new SchemaPeriod { From = new DateOnly(2023, 1, 1), IndexPrefix = "index_" },
            new SchemaPeriod { From = new DateOnly(2024, 1, 2), IndexPrefix = "tsdb_" },
        };
        var s = Labels(("app", "api"));
        using (var store = ChunkStore.Open(Options(dir.Path, periods)))
        {
            // Spans midnight into the day the second period starts.
            store.Write("t", [Chunk(s, Lines(Base + Day - (100 * Second), Second, 200))]);
            store.Write("t", [Chunk(s, Lines(Base + (3 * Day), Second, 10, "third day"))]);
        }

        var files = Directory.GetFiles(Path.Combine(dir.Path, "t", "index")).Select(Path.GetFileName).Order().ToList();
        Assert.Contains(files, f => f!.StartsWith("index_19723", StringComparison.Ordinal));
        Assert.Contains(files, f => f!.StartsWith("tsdb_19724", StringComparison.Ordinal));
        Assert.Contains(files, f => f!.StartsWith("tsdb_19726", StringComparison.Ordinal));

        using var reopened = ChunkStore.Open(Options(dir.Path, periods));
        Assert.Single(reopened.SelectStreams("t", [AppApi], Base + Day + Second, Base + Day + (2 * Second)));
        Assert.Single(reopened.SelectStreams("t", [AppApi], Base, Base + Day));
        Assert.Equal(210, ReadAll(reopened, "t", s, new EntryQuery(Base, Base + (4 * Day)), out _).Count);
        Assert.Equal(100, ReadAll(reopened, "t", s, new EntryQuery(Base + Day, Base + (2 * Day)), out _).Count);
        var stats = reopened.Stats("t", [AppApi], Base, Base + (4 * Day));
        Assert.Equal(2, stats.Chunks);
        Assert.Equal(210, stats.Entries);
    }

    [Fact]
    public void ClosedTablesAreSealedImmutableAndStillServed()
    {
        using var dir = new TempDirectory();
        var s = Labels(("app", "api"));
        var options = Options(dir.Path);
        using (var store = ChunkStore.Open(options))
        {
            store.Write("t", [Chunk(s, Lines(Base, Second, 10))]);
            Assert.Equal(1, store.SealClosedTables(DateTimeOffset.UtcNow));
            Assert.Equal(0, store.SealClosedTables(DateTimeOffset.UtcNow));

            // A late write to a sealed period goes to a fresh journal; sealing again makes a new generation.
            store.Write("t", [Chunk(s, Lines(Base + (100 * Second), Second, 5, "late"))]);
            Assert.Equal(15, ReadAll(store, "t", s, new EntryQuery(Base, Base + Day), out _).Count);
        }

        using (var reopened = ChunkStore.Open(options))
        {
            Assert.Equal(15, ReadAll(reopened, "t", s, new EntryQuery(Base, Base + Day), out _).Count);
        }

        var files = Directory.GetFiles(Path.Combine(dir.Path, "t", "index")).Select(Path.GetFileName).ToList();
        Assert.Equal(["index_19723.g2.idx"], files);
    }

    [Fact]
    public void CorruptBlockIsSkippedWithWarningAndReported()
    {
        using var dir = new TempDirectory();
        var reports = new List<StorageCorruption>();
        var s = Labels(("app", "api"));
        using var store = ChunkStore.Open(new StorageOptions { RootDirectory = dir.Path, OnCorruption = reports.Add });
        store.Write("t", [Chunk(s, Lines(Base, Second, 2000), blockSize: 4096)]);
        var pack = Directory.GetFiles(Path.Combine(dir.Path, "t", "chunks")).Single();
        var bytes = File.ReadAllBytes(pack);
        bytes[600] ^= 0xFF;
        File.WriteAllBytes(pack, bytes);

        using var reopened = ChunkStore.Open(new StorageOptions { RootDirectory = dir.Path, OnCorruption = reports.Add });
        var entries = ReadAll(reopened, "t", s, new EntryQuery(Base, Base + Day), out var warnings);
        Assert.InRange(entries.Count, 1500, 1999);
        var warning = Assert.Single(warnings);

        // The warning names the block, its chunk (pack file and offset) and how many entries it hides.
        var missing = 2000 - entries.Count;
        Assert.Matches($@"^skipped corrupt block 1 of \d+ in chunk {Path.GetFileName(pack)}@8 \({missing} entries, 2024-01-01T00:00:00Z to .*\): block at offset \d+ checksum mismatch$", warning);

        // Reported (logged and counted by the host) once with the pack's path, however often it is read again.
        Assert.Equal(entries.Count, ReadAll(reopened, "t", s, new EntryQuery(Base, Base + Day), out var again).Count);
        Assert.Equal([warning], again);
        ReadAll(reopened, "t", s, new EntryQuery(Base, Base + Day, Direction.Backward), out _);
        var report = Assert.Single(reports);
        Assert.Equal(new StorageCorruption("t", pack, warning, CorruptionKind.Block), report);
    }

    [Fact]
    public void UnreadableChunkIsReportedOnceAsAChunk()
    {
        using var dir = new TempDirectory();
        var reports = new List<StorageCorruption>();
        var s = Labels(("app", "api"));
        using var store = ChunkStore.Open(new StorageOptions { RootDirectory = dir.Path, OnCorruption = reports.Add });
        store.Write("t", [Chunk(s, Lines(Base, Second, 100))]);
        store.Write("t", [Chunk(s, Lines(Base + (1000 * Second), Second, 100, "second"))]);
        var packs = Directory.GetFiles(Path.Combine(dir.Path, "t", "chunks")).Order().ToArray();
        var bytes = File.ReadAllBytes(packs[0]);
        bytes[^3] ^= 0xFF;
        File.WriteAllBytes(packs[0], bytes);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(100, ReadAll(store, "t", s, new EntryQuery(Base, Base + Day), out var warnings).Count);
            Assert.StartsWith($"skipped corrupt chunk {Path.GetFileName(packs[0])}@8 (100 entries, 2024-01-01T00:00:00Z to 2024-01-01T00:01:39Z): ",
                Assert.Single(warnings), StringComparison.Ordinal);
        }

        var report = Assert.Single(reports);
        Assert.Equal(CorruptionKind.Chunk, report.Kind);
        Assert.Equal(packs[0], report.Path);
    }

    [Theory]
    [InlineData(64 * 1024)] // many blocks: judged from the tail's rows
    [InlineData(4 << 20)] // one block: once its tail is cached, judged through the id filter sieve
    public void AFilterSizeTheFullReadRejectsIsReportedNotRuledOutByALineFilter(int blockSize)
    {
        using var dir = new TempDirectory();
        var reports = new List<StorageCorruption>();
        var s = Labels(("app", "api"));
        using (var store = ChunkStore.Open(new StorageOptions { RootDirectory = dir.Path, OnCorruption = reports.Add }))
        {
            var rng = new Random(5);
            var lines = Enumerable.Range(0, 20_000).Select(i => (Base + (i * Second),
                $"level=info method=GET path=/api/items/{rng.Next(1000)} status=200 user=u{rng.Next(500)} took={rng.Next(900)}ms"));
            store.Write("t", [Chunk(s, lines, blockSize: blockSize)]);
        }

        // Block 0's content filter size made one byte short of its power of two, under a section checksum that agrees:
        // the tail checks out, but the full read rejects the row.
        var pack = Directory.GetFiles(Path.Combine(dir.Path, "t", "chunks")).Single();
        var bytes = File.ReadAllBytes(pack);
        const int chunkStart = 8;
        var footer = bytes.AsSpan().LastIndexOf(BitConverter.GetBytes(LokiSharp.Storage.Chunks.ChunkFormat.FooterMagic)) - 12;
        var tableAt = chunkStart + BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(footer));
        var filterSize = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(tableAt + 40));
        Assert.True(filterSize > 1 && int.IsPow2(filterSize), $"filter size {filterSize}");
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(tableAt + 40), filterSize - 1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(footer + 8), LokiSharp.Storage.Hashing.Crc32C.Compute(bytes.AsSpan(tableAt..footer)));
        File.WriteAllBytes(pack, bytes);

        using var reopened = ChunkStore.Open(new StorageOptions { RootDirectory = dir.Path, OnCorruption = reports.Add });
        for (var read = 0; read < 2; read++)
        {
            var found = ReadAll(reopened, "t", s, new EntryQuery(Base, Base + Day, Filter: new LiteralPrefilter("0f3a9c7e51b2d84a")), out var warnings);

            Assert.Empty(found);
            Assert.StartsWith($"skipped corrupt chunk {Path.GetFileName(pack)}@8 ", Assert.Single(warnings), StringComparison.Ordinal);
        }

        Assert.Equal(CorruptionKind.Chunk, Assert.Single(reports).Kind);
    }

    [Fact]
    public void ChunksAndBlocksHeldAreReservedInTheQueryMemoryBudgetAndReleased()
    {
        using var dir = new TempDirectory();
        var s = Labels(("app", "api"));
        using var store = ChunkStore.Open(Options(dir.Path));
        store.Write("t", [Chunk(s, Lines(Base, Second, 2000), blockSize: 4096)]);

        var memory = new LogQL.Evaluation.QueryMemoryBudget(0);
        Assert.Equal(2000, ReadAll(store, "t", s, new EntryQuery(Base, Base + Day, Memory: memory), out _).Count);
        Assert.InRange(memory.PeakBytes, 4096, 1 << 20);
        Assert.Equal(0, memory.ReservedBytes);

        var tight = new LogQL.Evaluation.QueryMemoryBudget(1024);
        var e = Assert.Throws<LogQL.Evaluation.QueryMemoryLimitException>(() =>
            ReadAll(store, "t", s, new EntryQuery(Base, Base + Day, Memory: tight), out _));
        Assert.Equal(1024, e.LimitBytes);
    }

    [Fact]
    public void TruncatedPackAndMissingPackAreWarningsNotCrashes()
    {
        using var dir = new TempDirectory();
        var s = Labels(("app", "api"));
        using (var store = ChunkStore.Open(Options(dir.Path)))
        {
            store.Write("t", [Chunk(s, Lines(Base, Second, 100))]);
            store.Write("t", [Chunk(s, Lines(Base + (1000 * Second), Second, 100, "second"))]);
        }

        var packs = Directory.GetFiles(Path.Combine(dir.Path, "t", "chunks")).Order().ToArray();
        using (var f = new FileStream(packs[0], FileMode.Open))
        {
            f.SetLength(f.Length / 2);
        }

        File.Delete(packs[1]);
        using var reopened = ChunkStore.Open(Options(dir.Path));
        var entries = ReadAll(reopened, "t", s, new EntryQuery(Base, Base + Day), out var warnings);
        Assert.Empty(entries);
        Assert.Equal(2, warnings.Count);
    }

    [Fact]
    public void TornJournalTailIsCutAndLaterWritesSurvive()
    {
        using var dir = new TempDirectory();
        var s = Labels(("app", "api"));
        var t = Labels(("app", "torn"));
        using (var store = ChunkStore.Open(new StorageOptions { RootDirectory = dir.Path, SealGracePeriod = TimeSpan.FromDays(36500) }))
        {
            store.Write("t", [Chunk(s, Lines(Base, Second, 10))]);
            store.Write("t", [Chunk(t, Lines(Base, Second, 10))]);
        }

        var journal = Directory.GetFiles(Path.Combine(dir.Path, "t", "index"), "*.journal").Single();
        using (var f = new FileStream(journal, FileMode.Open))
        {
            f.SetLength(f.Length - 3);
        }

        var reports = new List<StorageCorruption>();
        using (var store = ChunkStore.Open(new StorageOptions
        {
            RootDirectory = dir.Path,
            SealGracePeriod = TimeSpan.FromDays(36500),
            OnCorruption = reports.Add,
        }))
        {
            Assert.Single(reports);
            Assert.Equal(10, ReadAll(store, "t", s, new EntryQuery(Base, Base + Day), out _).Count);
            Assert.Empty(ReadAll(store, "t", t, new EntryQuery(Base, Base + Day), out _));
            store.Write("t", [Chunk(t, Lines(Base, Second, 7))]);
        }

        using var final = ChunkStore.Open(new StorageOptions { RootDirectory = dir.Path, SealGracePeriod = TimeSpan.FromDays(36500) });
        Assert.Equal(10, ReadAll(final, "t", s, new EntryQuery(Base, Base + Day), out _).Count);
        Assert.Equal(7, ReadAll(final, "t", t, new EntryQuery(Base, Base + Day), out _).Count);
    }

    [Theory]
    [InlineData(FlushStep.PackWritten)]
    [InlineData(FlushStep.PackSynced)]
    [InlineData(FlushStep.PackRenamed)]
    [InlineData(FlushStep.IndexWritten)]
    [InlineData(FlushStep.IndexSynced)]
    internal void CrashDuringFlushLeavesNothingHalfWritten(FlushStep crashAt)
    {
        using var dir = new TempDirectory();
        var s = Labels(("app", "api"));
        var n = Labels(("app", "new"));
        var options = new StorageOptions { RootDirectory = dir.Path, SealGracePeriod = TimeSpan.FromDays(36500) };
        using (var store = ChunkStore.Open(options))
        {
            store.Write("t", [Chunk(s, Lines(Base, Second, 50))]);
            store.FlushHook = step =>
            {
                if (step == crashAt)
                {
                    throw new IOException("simulated crash at " + step);
                }
            };
            Assert.Throws<IOException>(() => store.Write("t", [Chunk(n, Lines(Base, Second, 20)), Chunk(s, Lines(Base + (60 * Second), Second, 5))]));

            // Not acknowledged, so not visible in the running store either.
            Assert.Equal(50, ReadAll(store, "t", s, new EntryQuery(Base, Base + Day), out _).Count);
            Assert.Empty(store.SelectStreams("t", [new LabelMatcher("app", LogQL.Labels.MatchType.Equal, "new")], Base, Base + Day));

            // The retry after the failure succeeds and is not duplicated.
            store.FlushHook = null;
            store.Write("t", [Chunk(n, Lines(Base, Second, 20)), Chunk(s, Lines(Base + (60 * Second), Second, 5))]);
        }

        using var reopened = ChunkStore.Open(options);
        Assert.Equal(55, ReadAll(reopened, "t", s, new EntryQuery(Base, Base + Day), out var warnings).Count);
        Assert.Empty(warnings);
        Assert.Equal(20, ReadAll(reopened, "t", n, new EntryQuery(Base, Base + Day), out _).Count);
        Assert.Empty(Directory.GetFiles(Path.Combine(dir.Path, "t", "chunks"), "*.tmp"));
    }

    [Theory]
    [InlineData(FlushStep.PackWritten)]
    [InlineData(FlushStep.PackRenamed)]
    [InlineData(FlushStep.IndexWritten)]
    internal void ProcessDeathDuringFlushRecoversOnRestart(FlushStep crashAt)
    {
        // The process "dies" at the step: the store is abandoned without further calls, then reopened.
        using var dir = new TempDirectory();
        var s = Labels(("app", "api"));
        var options = new StorageOptions { RootDirectory = dir.Path, SealGracePeriod = TimeSpan.FromDays(36500) };
        var store = ChunkStore.Open(options);
        store.Write("t", [Chunk(s, Lines(Base, Second, 50))]);
        store.FlushHook = step =>
        {
            if (step == crashAt)
            {
                throw new IOException("simulated crash");
            }
        };
        Assert.Throws<IOException>(() => store.Write("t", [Chunk(s, Lines(Base + (60 * Second), Second, 5))]));
        store.Dispose();

        using var reopened = ChunkStore.Open(options);
        var entries = ReadAll(reopened, "t", s, new EntryQuery(Base, Base + Day), out var warnings);
        Assert.Empty(warnings);
        Assert.Equal(50, entries.Count);
    }

    [Fact]
    public void JournalWithForeignHeaderIsSetAsideAndWritesContinue()
    {
        using var dir = new TempDirectory();
        var s = Labels(("app", "api"));
        var options = new StorageOptions { RootDirectory = dir.Path, SealGracePeriod = TimeSpan.FromDays(36500) };
        using (var store = ChunkStore.Open(options))
        {
            store.Write("t", [Chunk(s, Lines(Base, Second, 10))]);
        }

        var journal = Directory.GetFiles(Path.Combine(dir.Path, "t", "index"), "*.journal").Single();
        var bytes = File.ReadAllBytes(journal);
        bytes[0] ^= 0xFF;
        File.WriteAllBytes(journal, bytes);

        using (var store = ChunkStore.Open(options))
        {
            Assert.Empty(ReadAll(store, "t", s, new EntryQuery(Base, Base + Day), out _));
            store.Write("t", [Chunk(s, Lines(Base + (20 * Second), Second, 4))]);
        }

        using var reopened = ChunkStore.Open(options);
        Assert.Equal(4, ReadAll(reopened, "t", s, new EntryQuery(Base, Base + Day), out _).Count);
        var setAside = Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "t", "index"), "*.corrupt-*"));

        // The set-aside journal listed acknowledged chunks: queries over its period say so, and its packs are kept.
        Assert.Equal([$"index table index_19723 is damaged, chunks it lists may be missing: {Path.GetFileName(setAside)}: journal set aside: its header is unreadable"],
            reopened.KnownDamage("t", Base, Base + Day));
        Assert.Empty(reopened.KnownDamage("t", Base + Day, Base + (2 * Day)));
        Assert.Empty(reopened.UnreferencedPacks("t"));
    }

    [Fact]
    public void DamagedSealedIndexWarnsQueriesAndKeepsItsPacksAndItsFile()
    {
        using var dir = new TempDirectory();
        var s = Labels(("app", "api"));
        var reports = new List<StorageCorruption>();
        var options = new StorageOptions { RootDirectory = dir.Path, OnCorruption = reports.Add };
        using (var store = ChunkStore.Open(options))
        {
            store.Write("t", [Chunk(s, Lines(Base, Second, 10))]);
            store.Write("t", [Chunk(s, Lines(Base + (100 * Second), Second, 20, "later"))]);
            Assert.Equal(1, store.SealClosedTables(DateTimeOffset.UtcNow));
        }

        var index = Path.Combine(dir.Path, "t", "index");
        var sealedFile = Directory.GetFiles(index, "*.idx").Single();
        var bytes = File.ReadAllBytes(sealedFile);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(sealedFile, bytes);
        var packs = Directory.GetFiles(Path.Combine(dir.Path, "t", "chunks")).Order().ToArray();

        using var reopened = ChunkStore.Open(options);
        var read = ReadAll(reopened, "t", s, new EntryQuery(Base, Base + Day), out _).Count;
        Assert.True(read is 10 or 20, $"one chunk's record is lost, read {read}");
        var warning = Assert.Single(reopened.KnownDamage("t", Base + Second, Base + (2 * Second)));
        Assert.StartsWith($"index table index_19723 is damaged, chunks it lists may be missing: {Path.GetFileName(sealedFile)}: ", warning, StringComparison.Ordinal);
        Assert.Empty(reopened.KnownDamage("t", Base - Day, Base));
        Assert.Contains(reports, r => r.Path == sealedFile);

        // The pack only the lost record listed is not collected, and sealing again does not replace the damaged file.
        Assert.Empty(reopened.UnreferencedPacks("t"));
        Assert.All(packs, p => Assert.Equal(0, reopened.DeletePackIfUnreferenced("t", PackIdOf(p))));
        Assert.All(packs, p => Assert.True(File.Exists(p)));
        reopened.Write("t", [Chunk(s, Lines(Base + (500 * Second), Second, 5, "late"))]);
        Assert.Equal(0, reopened.SealClosedTables(DateTimeOffset.UtcNow));
        Assert.True(File.Exists(sealedFile));
        Assert.Equal(read + 5, ReadAll(reopened, "t", s, new EntryQuery(Base, Base + Day), out _).Count);

        static long PackIdOf(string path) =>
            long.Parse(Path.GetFileNameWithoutExtension(path), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task ConcurrentWritersAndReadersSeeConsistentData()
    {
        using var dir = new TempDirectory();
        var options = new StorageOptions { RootDirectory = dir.Path, SealGracePeriod = TimeSpan.FromDays(36500) };
        using (var store = ChunkStore.Open(options))
        {
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
            {
                for (var i = 0; i < 25; i++)
                {
                    var labels = Labels(("app", "w" + w), ("batch", (i % 5).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                    store.Write("t", [Chunk(labels, Lines(Base + (i * 100 * Second), Second, 20))]);
                }
            })).ToArray();
            var reader = Task.Run(() =>
            {
                while (!writers.All(t => t.IsCompleted))
                {
                    foreach (var stream in store.SelectStreams("t", [], Base, Base + Day))
                    {
                        var n = ReadAll(store, "t", stream.Labels, new EntryQuery(Base, Base + Day), out var warnings).Count;
                        Assert.Empty(warnings);
                        Assert.Equal(0, n % 20);
                    }
                }
            });
            await Task.WhenAll([.. writers, reader]);
            Assert.Equal(new LokiSharp.Storage.Index.IndexStats(20, 100, store.Stats("t", [], Base, Base + Day).Bytes, 2000),
                store.Stats("t", [], Base, Base + Day));
        }

        using var reopened = ChunkStore.Open(options);
        Assert.Equal(2000, reopened.Stats("t", [], Base, Base + Day).Entries);
    }

    [Fact]
    public void TenantNamesAreEscapedOnDisk()
    {
        using var dir = new TempDirectory();
        var s = Labels(("app", "api"));
        using (var store = ChunkStore.Open(Options(dir.Path)))
        {
            store.Write("../evil/ten ant", [Chunk(s, Lines(Base, Second, 1))]);
            store.Write("..", [Chunk(s, Lines(Base, Second, 1))]);
        }

        Assert.Equal(2, Directory.GetDirectories(dir.Path).Length);
        using var reopened = ChunkStore.Open(Options(dir.Path));
        Assert.Equal(["..", "../evil/ten ant"], reopened.Tenants());
    }
}
