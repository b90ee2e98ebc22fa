using System.Collections.Concurrent;
using LokiSharp.Storage.Objects;

namespace LokiSharp.Storage.Bucket;

/// <summary>
/// Whether the bucket answers, as this process last saw it: any operation that fails for a reason a retry may cure
/// (network, timeout, server error) or for the bucket's set-up (credentials, permissions, a deleted bucket) marks it
/// unreachable, the next success marks it reachable again. Failures are counted per operation. Thread-safe.
/// </summary>
public sealed class BucketHealth
{
    private readonly ConcurrentDictionary<string, long> _failures = new(StringComparer.Ordinal);
    private volatile string? _problem;

    /// <summary>Why the bucket is unreachable, or null while it answers.</summary>
    public string? Problem => _problem;

    /// <summary>Whether the last operation on the bucket failed with a store (not a data) error.</summary>
    public bool Unreachable => _problem is not null;

    /// <summary>Failed operations so far per operation (<c>put</c>, <c>get</c>, <c>list</c>, <c>refresh</c>).</summary>
    public IReadOnlyDictionary<string, long> Failures => _failures;

    internal void Succeeded() => _problem = null;

    internal void Failed(string operation, ObjectStoreException e)
    {
        _failures.AddOrUpdate(operation, 1, static (_, n) => n + 1);
        if (e.Kind is ObjectStoreErrorKind.Transient or ObjectStoreErrorKind.Configuration)
        {
            _problem = $"object store unreachable ({operation}): {e.Message}";
        }
    }
}
