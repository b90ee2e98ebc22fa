using System.Globalization;
using LokiSharp.Storage.Objects;

namespace LokiSharp.Compactor.State;

/// <summary>
/// The compactor's state in the bucket (docs/formats/bucket.md, "State"): every save is a new immutable object
/// <c>compactor/&lt;kind&gt;/&lt;version:16 hex&gt;-&lt;epoch:16 hex&gt;.&lt;ext&gt;</c>, the newest (highest version, then
/// epoch) wins, and older ones are deleted once they are older than the delete delay. Store failures propagate (the
/// run or the API call fails and is retried); nothing is written locally.
/// </summary>
public sealed class BucketCompactorState : ICompactorState
{
    private const string Root = "compactor/";

    private readonly IObjectStore _store;
    private readonly long _epoch;
    private readonly TimeSpan _deleteDelay;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long _lastVersion;

    /// <summary>The state of the compactor with <paramref name="epoch"/> in <paramref name="store"/>.</summary>
    public BucketCompactorState(IObjectStore store, long epoch, TimeSpan deleteDelay, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epoch);
        _store = store;
        _epoch = epoch;
        _deleteDelay = deleteDelay;
        _time = time;
    }

    /// <summary>The prefix of a kind's objects.</summary>
    public static string PrefixOf(CompactorStateKind kind) => Root + (kind == CompactorStateKind.Marks ? "marks/" : "deletes/");

    /// <inheritdoc />
    public byte[]? Load(CompactorStateKind kind)
    {
        var versions = List(kind);
        if (versions.Count == 0)
        {
            return null;
        }

        var newest = versions[^1];
        lock (_lock)
        {
            _lastVersion = Math.Max(_lastVersion, newest.Version);
        }

        return _store.GetAsync(newest.Key).GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public void Save(CompactorStateKind kind, ReadOnlyMemory<byte> content)
    {
        long version;
        lock (_lock)
        {
            // Above every version seen, so the newest save wins even against a clock that went back.
            _lastVersion = version = Math.Max(_lastVersion + 1, _time.GetUtcNow().UtcTicks);
        }

        var key = PrefixOf(kind) + Hex(version) + "-" + Hex(_epoch) + Extension(kind);
        _store.PutAsync(key, content).GetAwaiter().GetResult();

        // Older objects stay readable for the delete delay (a reader or a twin may still be loading one).
        var cutoff = _time.GetUtcNow().UtcTicks - _deleteDelay.Ticks;
        foreach (var old in List(kind))
        {
            if (old.Key != key && old.Version < cutoff && old.Version < version)
            {
                _store.DeleteAsync(old.Key).GetAwaiter().GetResult();
            }
        }
    }

    // Oldest first: by version, then epoch.
    private List<(long Version, long Epoch, string Key)> List(CompactorStateKind kind)
    {
        var prefix = PrefixOf(kind);
        var extension = Extension(kind);
        var result = new List<(long, long, string)>();
        foreach (var info in _store.ListAsync(prefix).ToBlockingEnumerable())
        {
            var name = info.Key.AsSpan(prefix.Length);
            if (name.Length == 33 + extension.Length && name[16] == '-' && name.EndsWith(extension, StringComparison.Ordinal) &&
                long.TryParse(name[..16], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var version) &&
                long.TryParse(name[17..33], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var epoch))
            {
                result.Add((version, epoch, info.Key));
            }
        }

        result.Sort();
        return result;
    }

    private static string Extension(CompactorStateKind kind) => kind == CompactorStateKind.Marks ? ".txt" : ".json";

    private static string Hex(long value) => value.ToString("x16", CultureInfo.InvariantCulture);
}
