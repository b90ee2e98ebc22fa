using LokiSharp.Storage.Reading;
using LokiSharp.Storage.Store;
using static LokiSharp.Storage.Tests.TestData;

namespace LokiSharp.Storage.Tests.Store;

public sealed class ChunkDeletionTests
{
    private static readonly LogQL.Labels.LabelSet Api = Labels(("app", "api"));

    [Fact]
    public void DeletedChunksStayDeletedAfterRestartAndSealing()
    {
        using var dir = new TempDirectory();
        using (var store = ChunkStore.Open(Options(dir.Path)))
        {
            store.Write("t", [Chunk(Api, Lines(Base, Second, 5, "old"))]);
            store.Write("t", [Chunk(Api, Lines(Base + Day, Second, 5, "new"))]);
            var old = store.ListChunks("t")[0];
            Assert.Equal(1, store.DeleteChunks("t", [old.Chunk.Key]));
            Assert.Equal(0, store.DeleteChunks("t", [old.Chunk.Key]));
            Assert.Equal(5, ReadAll(store, "t", Api, new EntryQuery(Base, Base + (2 * Day)), out _).Count);
            var unreferenced = Assert.Single(store.UnreferencedPacks("t"));
            Assert.Equal(old.Chunk.PackId, unreferenced.PackId);
        }

        using (var store = ChunkStore.Open(Options(dir.Path)))
        {
            Assert.Single(store.ListChunks("t"));
            var pack = Assert.Single(store.UnreferencedPacks("t"));
            Assert.Equal(0, store.DeletePackIfUnreferenced("t", store.ListChunks("t")[0].Chunk.PackId));
            Assert.True(store.DeletePackIfUnreferenced("t", pack.PackId) > 0);
            Assert.Empty(store.UnreferencedPacks("t"));
            Assert.Equal(5, ReadAll(store, "t", Api, new EntryQuery(Base, Base + (2 * Day)), out var warnings).Count);
            Assert.Empty(warnings);
        }
    }

    [Fact]
    public void TombstoneInOneTableDeletesAChunkSpanningTwoAfterACrash()
    {
        using var dir = new TempDirectory();
        using (var store = ChunkStore.Open(Options(dir.Path)))
        {
            store.Write("t", [Chunk(Api, Lines(Base + Day - 10, Second, 5))]);
            var chunk = Assert.Single(store.ListChunks("t")).Chunk;
            var appends = 0;
            store.MaintenanceHook = (_, _) =>
            {
                if (++appends == 2)
                {
                    throw new IOException("injected crash");
                }
            };
            Assert.Throws<IOException>(() => store.DeleteChunks("t", [chunk.Key]));
        }

        using (var store = ChunkStore.Open(Options(dir.Path)))
        {
            Assert.Empty(store.ListChunks("t"));
            Assert.Empty(ReadAll(store, "t", Api, new EntryQuery(Base, Base + (3 * Day)), out _));
        }

        using (var store = ChunkStore.Open(Options(dir.Path)))
        {
            Assert.Empty(store.ListChunks("t"));
        }
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(4, true)]
    public void RewriteCommitsAtTheFirstTombstoneOfTheOldChunk(int crashAtAppend, bool committed)
    {
        using var dir = new TempDirectory();
        using (var store = ChunkStore.Open(Options(dir.Path)))
        {
            // Spans two daily tables, so the rewrite takes two replacement appends and two tombstone appends.
            store.Write("t", [Chunk(Api, Lines(Base + Day - (5 * Second), Second, 10))]);
            var old = Assert.Single(store.ListChunks("t")).Chunk;
            var appends = 0;
            store.MaintenanceHook = (_, _) =>
            {
                if (++appends == crashAtAppend + 1)
                {
                    throw new IOException("injected crash");
                }
            };
            var kept = Chunk(Api, Lines(Base + Day - (5 * Second), 2 * Second, 5));
            if (crashAtAppend < 4)
            {
                Assert.Throws<IOException>(() => store.ReplaceChunk("t", Api, old, kept));
            }
            else
            {
                store.ReplaceChunk("t", Api, old, kept);
            }
        }

        for (var restart = 0; restart < 2; restart++)
        {
            using var store = ChunkStore.Open(Options(dir.Path));
            var entries = ReadAll(store, "t", Api, new EntryQuery(Base, Base + (3 * Day)), out var warnings);
            Assert.Empty(warnings);
            Assert.Equal(committed ? 5 : 10, entries.Count);
            Assert.Single(store.ListChunks("t"));
        }
    }

    [Fact]
    public void PacksLeftUnindexedByACrashAreReportedUnreferenced()
    {
        using var dir = new TempDirectory();
        using var store = ChunkStore.Open(Options(dir.Path));
        store.Write("t", [Chunk(Api, Lines(Base, Second, 5))]);
        var stray = Path.Combine(dir.Path, "t", "chunks", "0000000000000001.pack");
        File.WriteAllBytes(stray, new byte[64]);

        var pack = Assert.Single(store.UnreferencedPacks("t"));

        Assert.Equal(1, pack.PackId);
        Assert.Equal(64, store.DeletePackIfUnreferenced("t", 1));
        Assert.False(File.Exists(stray));
        Assert.Equal(5, ReadAll(store, "t", Api, new EntryQuery(Base, Base + Day), out _).Count);
    }
}
