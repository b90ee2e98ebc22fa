using LokiSharp.Compactor.Deletion;
using LokiSharp.Compactor.Retention;
using LokiSharp.Compactor.State;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Objects;
using static LokiSharp.Compactor.Tests.CompactorFixture;

namespace LokiSharp.Compactor.Tests;

/// <summary>
/// The compactor over a bucket (a <see cref="FileSystemObjectStore"/> in a temp directory): retention, delete requests,
/// state kept in the bucket, and two compactors by mistake.
/// </summary>
public sealed class BucketCompactorTests
{
    private static readonly TimeSpan Days31 = TimeSpan.FromHours(744);
    private static readonly LabelSet Api = Labels(("app", "api"));

    private static DeleteRequest Request(string query, long startNs, long endNs) => new()
    {
        RequestId = "r1",
        Tenant = "t",
        Query = query,
        StartMs = startNs / 1_000_000,
        EndMs = endNs / 1_000_000,
        CreatedAtMs = Start.ToUnixTimeMilliseconds(),
    };

    [Fact]
    public async Task RetentionExpiresChunksForEveryReaderAndDeletesTheirPackAfterTheDelay()
    {
        using var f = new CompactorFixture(_ => new RetentionPolicy(Days31, []), bucket: true);
        var now = NowNs(Start);
        f.Write("t", Api, now - (40 * Day), Second, 10, "old");
        f.Write("t", Api, now - Hour, Second, 10, "new");
        using var reader = f.OpenBucket(null, null, "reader");
        var packs = Keys(f, "t/packs/");
        Assert.Equal(2, packs.Count);

        var first = f.Run(Start);
        Assert.Equal((1, 1, 0), (first.ChunksExpired, first.PacksMarked, first.PacksDeleted));
        Assert.Equal(["new 0", "new 9"], Ends(f.Read("t", Api)));
        Assert.Equal(20, f.Read("t", Api, reader).Count);
        await reader.RefreshAsync();
        Assert.Equal(["new 0", "new 9"], Ends(f.Read("t", Api, reader)));
        Assert.Single(Keys(f, "compactor/marks/"));

        Assert.Equal(0, f.Run(Start.AddHours(1)).PacksDeleted);
        Assert.Equal(2, Keys(f, "t/packs/").Count);
        var due = f.Run(Start.AddHours(2));
        Assert.Equal(1, due.PacksDeleted);
        Assert.Equal(packs[1], Assert.Single(Keys(f, "t/packs/")));
        await reader.RefreshAsync();
        Assert.Equal(10, f.Read("t", Api, reader).Count);
        Assert.Empty(f.Corruptions);
    }

    [Fact]
    public async Task ADeleteRequestSurvivesABackendThatMovesAndRemovesExactlyItsLines()
    {
        using var f = new CompactorFixture(_ => RetentionPolicy.KeepForever, cancelPeriod: TimeSpan.FromHours(1), bucket: true);
        var t0 = NowNs(Start) - Day;
        f.Write("t", Api, t0, Second, 20);
        f.Compactor.DeleteRequests.Add(Request("{app=\"api\"} |= \"line 1\"", t0, t0 + Hour));
        Assert.Equal(0, f.Run(Start).RequestsProcessed);
        Assert.Single(Keys(f, "compactor/deletes/"));

        // A new pod: empty working directory, later epoch. The request (and the marks) come from the bucket.
        f.Reopen(emptyWorkingDirectory: true);
        Assert.Equal("r1", Assert.Single(f.Compactor.DeleteRequests.All()).RequestId);
        var report = f.Run(Start.AddHours(2));
        Assert.Equal((1, 11L, 1), (report.RequestsProcessed, report.LinesDeleted, report.ChunksRewritten));
        var expected = Enumerable.Range(0, 20).Where(i => !$"line {i}".Contains("line 1", StringComparison.Ordinal)).Select(i => $"line {i}");
        Assert.Equal(expected, f.Read("t", Api).Select(e => e.Line));

        using var reader = f.OpenBucket(null, null, "reader");
        Assert.Equal(expected, f.Read("t", Api, reader).Select(e => e.Line));
        f.Reopen(emptyWorkingDirectory: true);
        Assert.Equal(DeleteRequestStatus.Processed, Assert.Single(f.Compactor.DeleteRequests.All()).Status);
        Assert.Equal(2, Keys(f, "compactor/deletes/").Count);

        // The rewritten chunk's old pack goes after the delay.
        f.Run(Start.AddHours(3));
        Assert.Equal(1, f.Run(Start.AddHours(6)).PacksDeleted);
        Assert.Equal(["t/packs/compactor/"], Keys(f, "t/packs/").Select(k => k[..(k.LastIndexOf('/') + 1)]));
        await reader.RefreshAsync();
        Assert.Equal(expected, f.Read("t", Api, reader).Select(e => e.Line));
    }

    [Fact]
    public async Task OfTwoCompactorsOnOneBucketTheOlderStepsDownWhileTheNewerBeats()
    {
        using var f = new CompactorFixture(_ => new RetentionPolicy(Days31, []), bucket: true);
        var now = NowNs(Start);
        f.Write("t", Api, now - (40 * Day), Second, 10, "old");
        using var otherStore = f.OpenBucket(null, f.Clock.Now.UtcTicks + 1000, "other");
        var other = f.CompactorOver(otherStore, "other-compactor", "backend-1");
        var older = f.Compactor;

        // The newer one runs; the older one sees its heartbeat and does nothing, then reports it.
        var newer = await other.RunAsync(CancellationToken.None);
        Assert.Null(newer.SteppedDownFor);
        Assert.Equal(1, newer.ChunksExpired);
        var stepped = f.Run(Start.AddMinutes(5));
        Assert.Equal(other.Heartbeat!.Key, stepped.SteppedDownFor);
        Assert.Equal(other.Heartbeat.Key, older.SteppedDownFor);
        Assert.EndsWith("-backend-1", older.SteppedDownFor, StringComparison.Ordinal);
        Assert.False(stepped.RetentionApplied);

        // Every output of each carries its own epoch; no key was written by both.
        var heartbeats = Keys(f, CompactorHeartbeat.Prefix);
        Assert.Equal(2, heartbeats.Count);
        Assert.All(Keys(f, "compactor/marks/"), k => Assert.EndsWith($"-{other.Heartbeat.Epoch:x16}.txt", k, StringComparison.Ordinal));

        // The newer one stops beating for three intervals: the older one takes over again.
        var resumed = f.Run(Start.AddMinutes(35));
        Assert.Null(resumed.SteppedDownFor);
        Assert.True(resumed.RetentionApplied);
        Assert.Empty(f.Corruptions);
    }

    [Theory]
    [InlineData("index-tombstoned")]
    [InlineData("marks-written")]
    [InlineData("pack-deleted")]
    [InlineData("request-applied")]
    public async Task ACrashAtAnyStepLosesNothingLiveAndARestartedCompactorFinishesTheWork(string step)
    {
        using var f = new CompactorFixture(_ => new RetentionPolicy(Days31, []), deleteDelay: TimeSpan.Zero, cancelPeriod: TimeSpan.Zero, bucket: true);
        var now = NowNs(Start);
        var streams = Enumerable.Range(0, 3).Select(i => Labels(("app", "s" + i))).ToArray();
        foreach (var s in streams)
        {
            f.Write("t", s, now - (60 * Day), Second, 4, "old");
            f.Write("t", s, now - (2 * Day), Second, 4, "live");
        }

        f.Compactor.DeleteRequests.Add(Request("{app=\"s0\"} |= \"live 1\"", now - (3 * Day), now));

        // A pack a writer put but never indexed (it crashed before its segment) is collected too.
        using (var objects = new FileSystemObjectStore(f.BucketPath))
        {
            await objects.PutAsync("t/packs/ingester-9/00000000000000ff.pack", new byte[] { 0x4C, 0x4B, 0x53, 0x50, 1, 1, 0, 0 });
        }

        f.Compactor.StepHook = s =>
        {
            if (s == step)
            {
                throw new IOException("injected crash at " + s);
            }
        };
        Assert.Throws<IOException>(() => f.Run(Start));

        f.Reopen(emptyWorkingDirectory: true);
        f.Run(Start.AddMinutes(10));
        f.Run(Start.AddMinutes(20));

        using var reader = f.OpenBucket(null, null, "reader");
        foreach (var source in new Storage.Reading.ILogSource[] { f.Store, reader })
        {
            Assert.Equal(["live 0", "live 2", "live 3"], f.Read("t", streams[0], source).Select(e => e.Line));
            Assert.Equal(["live 0", "live 1", "live 2", "live 3"], f.Read("t", streams[1], source).Select(e => e.Line));
            Assert.Equal(["live 0", "live 1", "live 2", "live 3"], f.Read("t", streams[2], source).Select(e => e.Line));
        }

        // Left: the two live writer packs not rewritten, and the rewrite's pack.
        var packs = Keys(f, "t/packs/");
        Assert.Equal(3, packs.Count);
        Assert.Single(packs, k => k.StartsWith("t/packs/compactor/", StringComparison.Ordinal));
        Assert.Equal(0, f.Run(Start.AddMinutes(30)).PacksPending);
        Assert.Equal(DeleteRequestStatus.Processed, Assert.Single(f.Compactor.DeleteRequests.All()).Status);
        Assert.Empty(f.Corruptions);
    }

    [Fact]
    public async Task HeartbeatsTellWhetherAnotherHostIsAliveAndStaleOnesOfOlderCompactorsAreDeleted()
    {
        var clock = new ManualClock(Start);
        using var dir = new TempBucket();
        async Task Beat(long epoch, string name, DateTimeOffset at) =>
            await dir.Store.PutAsync($"{CompactorHeartbeat.Prefix}{epoch:x16}-{name}", System.Text.Encoding.ASCII.GetBytes(at.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var heartbeat = new CompactorHeartbeat(dir.Store, 10, "backend-0", clock);
        var interval = TimeSpan.FromMinutes(10);

        // This host's own previous start, beating a minute ago, is not another compactor; a stale one is deleted.
        await Beat(4, "backend-0", Start.AddMinutes(-1));
        await Beat(5, "backend-1", Start.AddHours(-2));
        Assert.Null(heartbeat.BeatAndFindNewer(interval, out var others));
        Assert.False(others);
        Assert.Equal([$"{CompactorHeartbeat.Prefix}{4:x16}-backend-0", heartbeat.Key], dir.Store.ListAsync(CompactorHeartbeat.Prefix).ToBlockingEnumerable().Select(i => i.Key));

        // Another host with an older epoch, alive: this one keeps compacting but knows it is not alone.
        await Beat(6, "backend-1", Start.AddMinutes(-1));
        Assert.Null(heartbeat.BeatAndFindNewer(interval, out others));
        Assert.True(others);
    }

    [Fact]
    public void StateObjectsAreVersionedNewestWinsAndOlderOnesGoOnceOlderThanTheDelay()
    {
        var clock = new ManualClock(Start);
        using var dir = new TempBucket();
        var state = new BucketCompactorState(dir.Store, 7, TimeSpan.FromHours(2), clock);
        Assert.Null(state.Load(CompactorStateKind.Deletes));
        state.Save(CompactorStateKind.Deletes, "a"u8.ToArray());
        state.Save(CompactorStateKind.Deletes, "b"u8.ToArray());
        state.Save(CompactorStateKind.Marks, "m"u8.ToArray());
        Assert.Equal("b"u8.ToArray(), state.Load(CompactorStateKind.Deletes));

        // A later compactor (higher epoch) reads the newest and writes above it even with its clock behind.
        var later = new BucketCompactorState(dir.Store, 8, TimeSpan.FromHours(2), new ManualClock(Start.AddMinutes(-5)));
        Assert.Equal("b"u8.ToArray(), later.Load(CompactorStateKind.Deletes));
        later.Save(CompactorStateKind.Deletes, "c"u8.ToArray());
        Assert.Equal("c"u8.ToArray(), state.Load(CompactorStateKind.Deletes));
        var keys = dir.Store.ListAsync("compactor/deletes/").ToBlockingEnumerable().Select(i => i.Key).ToList();
        Assert.Equal(3, keys.Count);
        Assert.EndsWith("-0000000000000008.json", keys[^1], StringComparison.Ordinal);

        clock.Now = Start.AddHours(3);
        state.Save(CompactorStateKind.Deletes, "d"u8.ToArray());
        Assert.Single(dir.Store.ListAsync("compactor/deletes/").ToBlockingEnumerable());
        Assert.Equal("m"u8.ToArray(), state.Load(CompactorStateKind.Marks));
    }

    private sealed class TempBucket : IDisposable
    {
        private readonly string _path = Directory.CreateTempSubdirectory("lokisharp-state-").FullName;

        public TempBucket() => Store = new FileSystemObjectStore(_path);

        public FileSystemObjectStore Store { get; }

        public void Dispose()
        {
            Store.Dispose();
            Directory.Delete(_path, recursive: true);
        }
    }

    private static List<string> Ends(List<(long Ts, string Line)> entries) => [entries[0].Line, entries[^1].Line];

    private static List<string> Keys(CompactorFixture f, string prefix)
    {
        using var objects = new FileSystemObjectStore(f.BucketPath);
        return objects.ListAsync(prefix).ToBlockingEnumerable().Select(i => i.Key).ToList();
    }
}
