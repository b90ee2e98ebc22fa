using System.Text;
using LokiSharp.Storage.Objects;

namespace LokiSharp.Storage.Tests.Objects;

/// <summary>
/// What every <see cref="IObjectStore"/> must do, run once per implementation by a subclass that supplies
/// <see cref="CreateStore"/>. Self-contained (xunit and the Storage room only) so the integration tests can
/// compile this file into their project and run it against a real S3 server. Every key a test uses lies under
/// <see cref="Prefix"/>, unique per test, so stores may share one bucket and need not be emptied.
/// </summary>
public abstract class ObjectStoreContract : IDisposable
{
    private IObjectStore? _store;

    /// <summary>A key prefix of this test's own.</summary>
    protected string Prefix { get; } = "contract-" + Guid.NewGuid().ToString("N")[..12] + "/";

    /// <summary>The store under test, created on first use.</summary>
    protected IObjectStore Store => _store ??= CreateStore();

    /// <summary>How many keys <see cref="ListingReturnsEveryKeyOfAManyPageListing"/> writes; S3 subclasses with a small page size page through them.</summary>
    protected virtual int ManyKeys => 40;

    /// <summary>A fresh store (an empty directory, or a bucket that the unique prefixes keep apart).</summary>
    protected abstract IObjectStore CreateStore();

    [Fact]
    public async Task PutThenGetReturnsTheSameBytes()
    {
        var content = Bytes(100_000);
        await Store.PutAsync(Prefix + "a/b/object", content);
        await Store.PutAsync(Prefix + "empty", ReadOnlyMemory<byte>.Empty);
        using (var stream = new MemoryStream(Encoding.UTF8.GetBytes("xxfrom a stream")))
        {
            stream.Position = 2;
            await Store.PutAsync(Prefix + "streamed", stream);
        }

        Assert.Equal(content, await Store.GetAsync(Prefix + "a/b/object"));
        Assert.Empty(await Store.GetAsync(Prefix + "empty"));
        Assert.Equal("from a stream", Encoding.UTF8.GetString(await Store.GetAsync(Prefix + "streamed")));
    }

    [Fact]
    public async Task PutOfAnExistingKeyReplacesItWhole()
    {
        await Store.PutAsync(Prefix + "k", Bytes(10));
        await Store.PutAsync(Prefix + "k", Encoding.UTF8.GetBytes("second"));
        Assert.Equal("second", Encoding.UTF8.GetString(await Store.GetAsync(Prefix + "k")));
    }

    [Fact]
    public async Task GetOfAMissingKeyIsNotFound()
    {
        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.GetAsync(Prefix + "missing/key"));
        Assert.Equal(ObjectStoreErrorKind.NotFound, error.Kind);
        Assert.Equal(Prefix + "missing/key", error.Key);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task RangedReadsReturnTheRequestedBytesAndStopAtTheEnd()
    {
        var content = Bytes(1000);
        var key = Prefix + "ranged";
        await Store.PutAsync(key, content);

        var buffer = new byte[100];
        Assert.Equal(100, await Store.ReadAsync(key, 250, buffer));
        Assert.Equal(content[250..350], buffer);

        Assert.Equal(1, await Store.ReadAsync(key, 999, buffer));
        Assert.Equal(content[999], buffer[0]);

        Assert.Equal(40, await Store.ReadAsync(key, 960, buffer));
        Assert.Equal(content[960..], buffer[..40]);

        Assert.Equal(1000, await Store.ReadAsync(key, 0, new byte[1000]));
        Assert.Equal(0, await Store.ReadAsync(key, 1000, buffer));
        Assert.Equal(0, await Store.ReadAsync(key, 5000, buffer));
        Assert.Equal(0, await Store.ReadAsync(key, 10, Memory<byte>.Empty));
    }

    [Fact]
    public async Task RangedReadOfAMissingKeyIsNotFound()
    {
        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.ReadAsync(Prefix + "missing", 0, new byte[10]));
        Assert.Equal(ObjectStoreErrorKind.NotFound, error.Kind);
        error = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.ReadAsync(Prefix + "missing", 0, Memory<byte>.Empty));
        Assert.Equal(ObjectStoreErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public async Task HeadGivesTheSizeOrNull()
    {
        await Store.PutAsync(Prefix + "x/sized", Bytes(1234));
        await Store.PutAsync(Prefix + "x/empty", ReadOnlyMemory<byte>.Empty);
        Assert.Equal(1234, await Store.HeadAsync(Prefix + "x/sized"));
        Assert.Equal(0, await Store.HeadAsync(Prefix + "x/empty"));
        Assert.Null(await Store.HeadAsync(Prefix + "x/missing"));
        Assert.Null(await Store.HeadAsync(Prefix + "nowhere/missing"));

        // A "directory" is not an object.
        Assert.Null(await Store.HeadAsync(Prefix + "x"));
    }

    [Fact]
    public async Task ListingIsInKeyOrderAcrossDirectories()
    {
        // '-' and '.' sort before '/', '0' after it: a walk that lists a directory before its siblings gets this wrong.
        string[] keys = ["p/a-c", "p/a.x", "p/a/b", "p/a/c/d", "p/a0", "p/b", "q/x", "pz"];
        foreach (var key in keys.Reverse())
        {
            await Store.PutAsync(Prefix + key, Bytes(key.Length));
        }

        Assert.Equal(
            ["p/a-c", "p/a.x", "p/a/b", "p/a/c/d", "p/a0", "p/b"],
            await ListKeys("p/"));
        Assert.Equal(["p/a/b", "p/a/c/d"], await ListKeys("p/a/"));
        Assert.Equal(["p/a-c", "p/a.x", "p/a/b", "p/a/c/d", "p/a0"], await ListKeys("p/a"));
        Assert.Equal(["p/a-c", "p/a.x", "p/a/b", "p/a/c/d", "p/a0", "p/b", "pz"], await ListKeys("p"));
        Assert.Equal(["p/a/c/d"], await ListKeys("p/a/c/d"));
        Assert.Empty(await ListKeys("p/nothing"));
        Assert.Empty(await ListKeys("none/"));

        var all = new List<ObjectInfo>();
        await foreach (var info in Store.ListAsync(Prefix))
        {
            all.Add(info);
        }

        Assert.Equal(keys.Order(StringComparer.Ordinal).Select(k => new ObjectInfo(Prefix + k, k.Length)), all);
    }

    [Fact]
    public async Task PrefixListingNamesEachDirectoryOnceInOrderWhileItHoldsAnObject()
    {
        string[] keys = ["t/a-c", "t/a/b", "t/a/c/d", "t/a0/x", "t/b/y", "t/b/z", "t/e/gone", "t/z"];
        foreach (var key in keys)
        {
            await Store.PutAsync(Prefix + key, Bytes(1));
        }

        await Store.DeleteAsync(Prefix + "t/e/gone");

        Assert.Equal(["t/a/", "t/a0/", "t/b/"], await ListPrefixes("t/"));
        Assert.Equal(["t/a/c/"], await ListPrefixes("t/a/"));
        Assert.Empty(await ListPrefixes("t/b/"));
        Assert.Empty(await ListPrefixes("none/"));
        Assert.Contains(Prefix, await Store.ListPrefixesAsync("").ToListAsync());
        await Assert.ThrowsAsync<ArgumentException>(async () => await Store.ListPrefixesAsync(Prefix + "t").ToListAsync());

        // Many directories: the listing pages through them.
        await Parallel.ForEachAsync(Enumerable.Range(0, ManyKeys), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            await Store.PutAsync($"{Prefix}m/{i:D5}/x", Bytes(1), ct));
        Assert.Equal(Enumerable.Range(0, ManyKeys).Select(i => $"m/{i:D5}/"), await ListPrefixes("m/"));
    }

    [Fact]
    public async Task ListingReturnsEveryKeyOfAManyPageListing()
    {
        var expected = Enumerable.Range(0, ManyKeys).Select(i => $"many/{i % 3}/{i:D5}").Order(StringComparer.Ordinal).ToList();
        await Parallel.ForEachAsync(expected, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (key, ct) =>
            await Store.PutAsync(Prefix + key, Bytes(3), ct));
        Assert.Equal(expected, await ListKeys("many/"));
    }

    [Fact]
    public async Task DeleteRemovesTheObjectAndIsIdempotent()
    {
        await Store.PutAsync(Prefix + "d/one", Bytes(5));
        await Store.PutAsync(Prefix + "d/two", Bytes(5));
        await Store.DeleteAsync(Prefix + "d/one");
        await Store.DeleteAsync(Prefix + "d/one");
        await Store.DeleteAsync(Prefix + "never/existed");

        Assert.Null(await Store.HeadAsync(Prefix + "d/one"));
        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.GetAsync(Prefix + "d/one"));
        Assert.Equal(ObjectStoreErrorKind.NotFound, error.Kind);
        Assert.Equal(["d/two"], await ListKeys("d/"));

        await Store.DeleteAsync(Prefix + "d/two");
        Assert.Empty(await ListKeys(""));

        // The key can be written again after its "directory" emptied.
        await Store.PutAsync(Prefix + "d/one", Bytes(7));
        Assert.Equal(7, await Store.HeadAsync(Prefix + "d/one"));
    }

    [Fact]
    public async Task ConcurrentPutsAndDeletesInOneDirectoryAllTakeEffect()
    {
        await Parallel.ForEachAsync(Enumerable.Range(0, 60), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            await Store.PutAsync(Prefix + $"busy/dir/{i:D3}", Bytes(i), ct);
            if (i % 2 == 0)
            {
                await Store.DeleteAsync(Prefix + $"busy/dir/{i:D3}", ct);
            }
        });
        Assert.Equal(Enumerable.Range(0, 60).Where(i => i % 2 == 1).Select(i => $"busy/dir/{i:D3}"), await ListKeys("busy/"));
    }

    [Fact]
    public async Task CreateOnlyRefusesToOverwrite()
    {
        var key = Prefix + "once/object";
        if (!Store.SupportsCreateOnly)
        {
            await Assert.ThrowsAsync<NotSupportedException>(() => Store.TryCreateAsync(key, Bytes(3)));
            return;
        }

        Assert.True(await Store.TryCreateAsync(key, Encoding.UTF8.GetBytes("first")));
        Assert.False(await Store.TryCreateAsync(key, Encoding.UTF8.GetBytes("second")));
        Assert.Equal("first", Encoding.UTF8.GetString(await Store.GetAsync(key)));
    }

    [Fact]
    public async Task CreateOnlyHasOneWinnerAmongRacingWriters()
    {
        if (!Store.SupportsCreateOnly)
        {
            return;
        }

        var key = Prefix + "race";
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => Store.TryCreateAsync(key, Encoding.UTF8.GetBytes($"writer {i}")))));
        var winner = Assert.Single(Enumerable.Range(0, 8), i => results[i]);
        Assert.Equal($"writer {winner}", Encoding.UTF8.GetString(await Store.GetAsync(key)));
    }

    /// <summary>Keys every store refuses, with a part of the message that explains why.</summary>
    public static TheoryData<string, string> InvalidKeys => new()
    {
        { "", "empty" },
        { "/abs/key", "starts with '/'" },
        { "a//b", "empty segment" },
        { "a/", "ends with '/'" },
        { "../escape", "'..'" },
        { "a/../b", "'..'" },
        { "a/./b", "'.'" },
        { "a\\b", "backslash" },
        { "a b", "printable ASCII" },
        { "line\nbreak", "printable ASCII" },
        { "caf\u00e9", "printable ASCII" },
        { "half.tmp", ".tmp" },
        { new string('k', 1025), "longer than 1024" },
    };

    [Theory]
    [MemberData(nameof(InvalidKeys))]
    public async Task InvalidKeysAreRefusedWithTheReason(string key, string reason)
    {
        async Task Refused(Func<Task> operation)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(operation);
            Assert.Contains("invalid object key", error.Message, StringComparison.Ordinal);
            Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        }

        await Refused(() => Store.PutAsync(key, Bytes(1)));
        await Refused(() => Store.PutAsync(key, new MemoryStream(Bytes(1))));
        await Refused(() => Store.GetAsync(key));
        await Refused(() => Store.ReadAsync(key, 0, new byte[1]));
        await Refused(() => Store.HeadAsync(key));
        await Refused(() => Store.DeleteAsync(key));
        if (Store.SupportsCreateOnly)
        {
            await Refused(() => Store.TryCreateAsync(key, Bytes(1)));
        }
    }

    [Theory]
    [InlineData("/a")]
    [InlineData("a//")]
    [InlineData("../")]
    [InlineData("a\\")]
    public async Task InvalidListingPrefixesAreRefused(string prefix)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await foreach (var unused in Store.ListAsync(prefix))
            {
            }
        });
        Assert.Contains("invalid object key prefix", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Disposes the store.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the store; subclasses add their own clean-up.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _store?.Dispose();
        }
    }

    /// <summary>The keys under <see cref="Prefix"/> + <paramref name="prefix"/>, with <see cref="Prefix"/> cut off.</summary>
    protected async Task<List<string>> ListPrefixes(string prefix) =>
        [.. (await Store.ListPrefixesAsync(Prefix + prefix).ToListAsync()).Select(p => p[Prefix.Length..])];

    protected async Task<List<string>> ListKeys(string prefix)
    {
        var keys = new List<string>();
        await foreach (var info in Store.ListAsync(Prefix + prefix))
        {
            Assert.StartsWith(Prefix, info.Key, StringComparison.Ordinal);
            keys.Add(info.Key[Prefix.Length..]);
        }

        return keys;
    }

    /// <summary>Deterministic non-trivial content.</summary>
    protected static byte[] Bytes(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 31) + (i >> 8));
        }

        return bytes;
    }
}
