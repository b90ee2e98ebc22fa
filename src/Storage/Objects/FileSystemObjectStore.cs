using System.Runtime.CompilerServices;
using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Objects;

/// <summary>
/// Objects as files under a root directory, a key's segments as subdirectories. Writes are crash-safe through
/// <see cref="DurableFile"/> (temporary name, fsync, rename, directory fsync); create-only links the finished
/// file into place, which fails rather than replace an existing one. Deleting the last object of a directory
/// removes the directory, so the tree stays as sparse as the key space.
/// </summary>
/// <remarks>
/// The work is synchronous file I/O behind the async signatures, as the chunk store does it today. A key cannot
/// also be a "directory" of other keys (<c>a</c> and <c>a/b</c>), which S3 would allow; the layout must not
/// need that.
/// </remarks>
public sealed partial class FileSystemObjectStore : IObjectStore
{
    // A put races with the delete of the directory's last object, which removes the directory it is writing into.
    private const int DirectoryRaceRetries = 8;

    private readonly string _root;

    /// <summary>Opens (and creates if needed) the store at <paramref name="root"/>.</summary>
    public FileSystemObjectStore(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
        try
        {
            DurableFile.EnsureDirectory(_root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ObjectStoreException(
                ObjectStoreErrorKind.Configuration, null, $"cannot create the object store directory {_root}: {e.Message}", e);
        }
    }

    /// <summary>The directory that holds the objects.</summary>
    public string Root => _root;

    /// <inheritdoc />
    public bool SupportsCreateOnly => true;

    /// <inheritdoc />
    public Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        Write(key, path =>
        {
            DurableFile.Replace(path, stream => stream.Write(content.Span));
            return true;
        });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task PutAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();

        // A retry after a directory race must write the same bytes, so the stream is read once, up front.
        var bytes = ReadToEnd(content);
        Write(key, path =>
        {
            DurableFile.Replace(path, stream => stream.Write(bytes));
            return true;
        });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Write(key, path => DurableFile.TryCreate(path, stream => stream.Write(content.Span))));
    }

    /// <inheritdoc />
    public async Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        try
        {
            return await File.ReadAllBytesAsync(PathOf(key), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Translate(e, key);
        }
    }

    /// <inheritdoc />
    public async Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        try
        {
            using var handle = File.OpenHandle(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.RandomAccess);
            var total = 0;
            while (total < destination.Length)
            {
                var read = await RandomAccess.ReadAsync(handle, destination[total..], offset + total, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return total;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Translate(e, key);
        }
    }

    /// <inheritdoc />
    public Task<long?> HeadAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        var file = new FileInfo(PathOf(key));
        return Task.FromResult(file.Exists ? file.Length : (long?)null);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectKey.ValidatePrefix(prefix);

        // Walking directories is blocking work: leave the caller's thread first.
        await Task.Yield();
        var cut = prefix.LastIndexOf('/');
        var directory = cut < 0 ? _root : PathOf(prefix[..cut]);
        foreach (var info in Walk(directory, prefix[..(cut + 1)], prefix[(cut + 1)..]))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return info;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListPrefixesAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectKey.CheckDirectoryPrefix(prefix);
        await Task.Yield();
        string[] names;
        try
        {
            names = [.. new DirectoryInfo(prefix.Length == 0 ? _root : PathOf(prefix[..^1])).EnumerateDirectories().Select(d => d.Name)];
        }
        catch (DirectoryNotFoundException)
        {
            yield break;
        }

        Array.Sort(names, StringComparer.Ordinal);
        foreach (var name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // As in S3, a prefix exists only while some object is under it (a directory emptied by deletes is none).
            if (Walk(Path.Combine(prefix.Length == 0 ? _root : PathOf(prefix[..^1]), name), "", "").Any())
            {
                yield return prefix + name + "/";
            }
        }
    }

    /// <inheritdoc />
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        var path = PathOf(key);
        try
        {
            if (!File.Exists(path))
            {
                return Task.CompletedTask;
            }

            File.Delete(path);
            var directory = Path.GetDirectoryName(path)!;
            DurableFile.SyncDirectory(directory);
            RemoveEmptyDirectories(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Translate(e, key);
        }

        return Task.CompletedTask;
    }

    /// <summary>Nothing to release: every operation opens and closes its own files.</summary>
    public void Dispose()
    {
    }

    private string PathOf(string key) =>
        Path.Join(_root, Path.DirectorySeparatorChar == '/' ? key : key.Replace('/', Path.DirectorySeparatorChar));

    // Runs a durable write into the key's directory, recreating the directory if a concurrent delete removed it.
    private bool Write(string key, Func<string, bool> write)
    {
        var path = PathOf(key);
        var directory = Path.GetDirectoryName(path)!;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                DurableFile.EnsureDirectory(directory);
                return write(path);
            }
            catch (DirectoryNotFoundException) when (attempt < DirectoryRaceRetries)
            {
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Clash(path) is { } clash
                    ? new ObjectStoreException(
                        ObjectStoreErrorKind.Permanent, key, $"object {key} cannot be stored: {clash} (a file system store limit)", e)
                    : Translate(e, key);
            }
        }
    }

    // Files cannot also be directories: "a" and "a/b" cannot both be objects here.
    private string? Clash(string path)
    {
        if (Directory.Exists(path))
        {
            return "other objects' keys start with it and a '/'";
        }

        for (var parent = Path.GetDirectoryName(path); parent is not null && parent.Length > _root.Length; parent = Path.GetDirectoryName(parent))
        {
            if (File.Exists(parent))
            {
                return $"the object {Path.GetRelativePath(_root, parent).Replace(Path.DirectorySeparatorChar, '/')} is a prefix of it";
            }
        }

        return null;
    }

    // Removes now-empty directories up to the root; stops at the first that is not empty (a concurrent put's
    // temporary file keeps its directory alive).
    private void RemoveEmptyDirectories(string directory)
    {
        while (directory.Length > _root.Length && directory.StartsWith(_root, StringComparison.Ordinal))
        {
            try
            {
                Directory.Delete(directory, recursive: false);
            }
            catch (IOException)
            {
                return;
            }

            directory = Path.GetDirectoryName(directory)!;
            DurableFile.SyncDirectory(directory);
        }
    }

    private static byte[] ReadToEnd(Stream content)
    {
        using var buffer = content.CanSeek ? new MemoryStream(checked((int)(content.Length - content.Position))) : new MemoryStream();
        content.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static ObjectStoreException Translate(Exception e, string key) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => ObjectStoreException.NotFound(key, e),
        UnauthorizedAccessException => new ObjectStoreException(
            ObjectStoreErrorKind.Configuration, key, $"no permission for object {key}: {e.Message}", e),
        _ => new ObjectStoreException(ObjectStoreErrorKind.Transient, key, $"I/O error on object {key}: {e.Message}", e),
    };
}
