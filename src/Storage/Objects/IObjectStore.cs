namespace LokiSharp.Storage.Objects;

/// <summary>
/// A flat store of immutable objects under <c>/</c>-separated keys: the operations a chunk store over a bucket
/// needs, implemented by the local file system (<see cref="FileSystemObjectStore"/>) and S3
/// (<see cref="S3ObjectStore"/>). Keys are checked by <see cref="ObjectKey"/>; a bad key is an
/// <see cref="ArgumentException"/>. Failures are <see cref="ObjectStoreException"/>s whose
/// <see cref="ObjectStoreException.Kind"/> says whether a retry can help. Implementations are thread-safe.
/// </summary>
/// <remarks>
/// Objects are immutable by convention: a key is written once, or again with the same content when a put whose
/// outcome is unknown (a timeout) is retried. Where two writers might race for a key, use
/// <see cref="TryCreateAsync"/> if <see cref="SupportsCreateOnly"/>, or make keys unique per writer.
/// </remarks>
public interface IObjectStore : IDisposable
{
    /// <summary>Whether <see cref="TryCreateAsync"/> is available (atomic create-if-absent).</summary>
    bool SupportsCreateOnly { get; }

    /// <summary>Stores <paramref name="content"/> under <paramref name="key"/>; readers see all of it or nothing.</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>Stores the rest of <paramref name="content"/> (from its position to its end) under <paramref name="key"/>.</summary>
    Task PutAsync(string key, Stream content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="content"/> only if <paramref name="key"/> does not exist yet, atomically: true when
    /// written, false when the key already existed (its object is left as it was). Throws
    /// <see cref="NotSupportedException"/> when <see cref="SupportsCreateOnly"/> is false.
    /// </summary>
    Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>The whole object; <see cref="ObjectStoreErrorKind.NotFound"/> when it does not exist.</summary>
    Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the object's bytes from <paramref name="offset"/> into <paramref name="destination"/> (a ranged GET)
    /// and returns how many were read: fewer than its length only where the object ends, 0 from its end on.
    /// <see cref="ObjectStoreErrorKind.NotFound"/> when it does not exist.
    /// </summary>
    Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default);

    /// <summary>The object's size in bytes, or null when it does not exist.</summary>
    Task<long?> HeadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every object whose key starts with <paramref name="prefix"/> (a plain string prefix, "" for all), in ordinal
    /// key order, fetched page by page as the caller enumerates.
    /// </summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>
    /// The "directories" one level below <paramref name="prefix"/> ("" or ending in <c>/</c>): each distinct
    /// <c>prefix + name + "/"</c> that at least one key starts with, once, in ordinal order (S3's common prefixes with
    /// the delimiter <c>/</c>). Lets a reader find tenants and tables without listing every object under them.
    /// </summary>
    IAsyncEnumerable<string> ListPrefixesAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Removes the object; nothing happens when it does not exist.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);
}
