using LokiSharp.Storage.Objects;
using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Tests.Objects;

public sealed class FileSystemObjectStoreTests : ObjectStoreContract
{
    private readonly TempDirectory _dir = new();

    protected override IObjectStore CreateStore() => new FileSystemObjectStore(_dir.Path);

    [Fact]
    public async Task ObjectsAreFilesUnderTheRootAndEmptiedDirectoriesGo()
    {
        await Store.PutAsync("tenant/chunks/ab/c1", Bytes(10));
        Assert.True(File.Exists(Path.Combine(_dir.Path, "tenant", "chunks", "ab", "c1")));

        await Store.DeleteAsync("tenant/chunks/ab/c1");
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "tenant")));
        Assert.True(Directory.Exists(_dir.Path));
    }

    [Fact]
    public async Task UnfinishedWritesAreNotListed()
    {
        await Store.PutAsync("t/done", Bytes(4));
        File.WriteAllBytes(Path.Combine(_dir.Path, "t", "next." + Guid.NewGuid().ToString("N") + DurableFile.TempSuffix), Bytes(2));
        var keys = new List<string>();
        await foreach (var info in Store.ListAsync(""))
        {
            keys.Add(info.Key);
        }

        Assert.Equal(["t/done"], keys);
    }

    [Fact]
    public async Task CreateOnlyLeavesNoTemporaryFileWhenItLoses()
    {
        Assert.True(await Store.TryCreateAsync("t/once", Bytes(4)));
        Assert.False(await Store.TryCreateAsync("t/once", Bytes(8)));
        Assert.Equal(["once"], Directory.GetFiles(Path.Combine(_dir.Path, "t")).Select(Path.GetFileName));
        Assert.Equal(4, await Store.HeadAsync("t/once"));
    }

    [Fact]
    public async Task AKeyThatIsAlsoADirectoryOfOtherKeysIsRefused()
    {
        await Store.PutAsync("t/a", Bytes(4));
        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.PutAsync("t/a/b", Bytes(4)));
        Assert.Equal(ObjectStoreErrorKind.Permanent, error.Kind);
        Assert.Contains("the object t/a is a prefix of it", error.Message, StringComparison.Ordinal);

        await Store.PutAsync("t/c/d", Bytes(4));
        error = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.TryCreateAsync("t/c", Bytes(4)));
        Assert.Equal(ObjectStoreErrorKind.Permanent, error.Kind);
        Assert.Contains("other objects' keys start with it", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnusableRootIsAConfigurationError()
    {
        var file = Path.Combine(_dir.Path, "a-file");
        File.WriteAllBytes(file, Bytes(1));
        var error = Assert.Throws<ObjectStoreException>(() => new FileSystemObjectStore(Path.Combine(file, "root")));
        Assert.Equal(ObjectStoreErrorKind.Configuration, error.Kind);
        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _dir.Dispose();
        }
    }
}
