using System.Globalization;
using System.Text;
using LokiSharp.Storage.Objects;

namespace LokiSharp.Compactor.State;

/// <summary>
/// A compactor's liveness in the bucket, <c>compactor/heartbeats/&lt;epoch:16 hex&gt;-&lt;name&gt;</c>, holding the time of
/// its last beat in ticks. Only its own compactor writes a heartbeat key (the epoch is in it), so rewriting it clobbers
/// nobody. Two compactors on one bucket by mistake: the one with the older epoch steps down while the newer one beats
/// (docs/formats/bucket.md, "Two compactors by mistake"); safety never depends on it.
/// </summary>
public sealed class CompactorHeartbeat
{
    /// <summary>The prefix of every heartbeat key.</summary>
    public const string Prefix = "compactor/heartbeats/";

    // Heartbeats of older compactors silent this long are deleted.
    private static readonly TimeSpan StaleAfter = TimeSpan.FromHours(1);

    private readonly IObjectStore _store;
    private readonly TimeProvider _time;

    /// <summary>The heartbeat of the compactor with <paramref name="epoch"/>, named <paramref name="name"/> in its key.</summary>
    public CompactorHeartbeat(IObjectStore store, long epoch, string name, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epoch);
        _store = store;
        _time = time;
        Epoch = epoch;
        Name = name;
        Key = Prefix + epoch.ToString("x16", CultureInfo.InvariantCulture) + "-" + name;
    }

    /// <summary>This compactor's epoch (its start time in ticks).</summary>
    public long Epoch { get; }

    /// <summary>The name in the key (the host name).</summary>
    public string Name { get; }

    /// <summary>This compactor's heartbeat key.</summary>
    public string Key { get; }

    /// <summary>
    /// Beats, then looks at the other compactors' heartbeats: one with a higher epoch that beat less than three
    /// <paramref name="interval"/>s ago makes this one step down. <paramref name="othersAlive"/> tells whether any
    /// compactor under another name beat that recently (a lower epoch under this name is this host's own previous run).
    /// </summary>
    /// <returns>The newer compactor's heartbeat key (its epoch and name), or null when this one is the newest alive.</returns>
    public string? BeatAndFindNewer(TimeSpan interval, out bool othersAlive)
    {
        othersAlive = false;
        var now = _time.GetUtcNow().UtcTicks;
        _store.PutAsync(Key, Encoding.ASCII.GetBytes(now.ToString(CultureInfo.InvariantCulture))).GetAwaiter().GetResult();
        foreach (var info in _store.ListAsync(Prefix).ToBlockingEnumerable())
        {
            var name = info.Key.AsSpan(Prefix.Length);
            if (name.Length < 18 || name[16] != '-' ||
                !long.TryParse(name[..16], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var epoch) || epoch == Epoch)
            {
                continue;
            }

            byte[] beat;
            try
            {
                beat = _store.GetAsync(info.Key).GetAwaiter().GetResult();
            }
            catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.NotFound)
            {
                continue;
            }

            if (!long.TryParse(Encoding.ASCII.GetString(beat), NumberStyles.Integer, CultureInfo.InvariantCulture, out var at))
            {
                continue;
            }

            if (now - at < 3 * interval.Ticks)
            {
                if (epoch > Epoch)
                {
                    return info.Key;
                }

                othersAlive |= !name[17..].SequenceEqual(Name);
            }
            else if (epoch < Epoch && now - at > Math.Max(3 * interval.Ticks, StaleAfter.Ticks))
            {
                // A compactor gone for good (an older start of this or another host): one small object less per start.
                _store.DeleteAsync(info.Key).GetAwaiter().GetResult();
            }
        }

        return null;
    }
}
