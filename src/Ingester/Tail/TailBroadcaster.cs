using LokiSharp.LogQL.Labels;

namespace LokiSharp.Ingester.Tail;

/// <summary>
/// The ingester's live-tail hook: subscribers per tenant, notified after each durable push. With no subscriber
/// for the tenant a push pays one dictionary lookup and copies nothing.
/// </summary>
public sealed class TailBroadcaster
{
    private readonly Lock _sync = new();
    private volatile Dictionary<string, ITailSubscriber[]> _byTenant = new(StringComparer.Ordinal);

    /// <summary>Tails currently open for <paramref name="tenant"/>.</summary>
    public int Count(string tenant) => _byTenant.TryGetValue(tenant, out var subscribers) ? subscribers.Length : 0;

    /// <summary>Adds a subscriber; dispose the result to remove it.</summary>
    public IDisposable Subscribe(string tenant, ITailSubscriber subscriber)
    {
        lock (_sync)
        {
            // Copy-on-write keeps the push path lock-free.
            var copy = new Dictionary<string, ITailSubscriber[]>(_byTenant, StringComparer.Ordinal);
            copy[tenant] = [.. copy.GetValueOrDefault(tenant) ?? [], subscriber];
            _byTenant = copy;
        }

        return new Subscription(this, tenant, subscriber);
    }

    /// <summary>True when someone tails <paramref name="tenant"/>, so the caller should build and publish.</summary>
    internal bool Wants(string tenant) => _byTenant.ContainsKey(tenant);

    internal void Publish(string tenant, LabelSet streamLabels, IReadOnlyList<PushedEntry> entries)
    {
        if (!_byTenant.TryGetValue(tenant, out var subscribers))
        {
            return;
        }

        foreach (var subscriber in subscribers)
        {
            subscriber.OnPushed(streamLabels, entries);
        }
    }

    private void Unsubscribe(string tenant, ITailSubscriber subscriber)
    {
        lock (_sync)
        {
            if (!_byTenant.TryGetValue(tenant, out var subscribers))
            {
                return;
            }

            var copy = new Dictionary<string, ITailSubscriber[]>(_byTenant, StringComparer.Ordinal);
            var remaining = Array.FindAll(subscribers, s => !ReferenceEquals(s, subscriber));
            if (remaining.Length == 0)
            {
                copy.Remove(tenant);
            }
            else
            {
                copy[tenant] = remaining;
            }

            _byTenant = copy;
        }
    }

    private sealed class Subscription(TailBroadcaster owner, string tenant, ITailSubscriber subscriber) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Unsubscribe(tenant, subscriber);
            }
        }
    }
}
