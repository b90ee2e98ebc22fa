using System.Collections.Concurrent;
using LokiSharp.Ruler.Alerting;

namespace LokiSharp.Ruler.Notifications;

/// <summary>
/// Sends alerts to every configured Alertmanager as Loki's ruler does with Prometheus' notifier: per tenant and per
/// Alertmanager a bounded queue (oldest dropped when full) drained by its own send loop in batches of at most 64,
/// with the tenant in <c>X-Scope-OrgID</c>. A slow or dead Alertmanager fills and times out only its own queue:
/// it never holds up the caller nor the other Alertmanagers (Prometheus' per-Alertmanager send loops).
/// </summary>
public sealed class AlertmanagerNotifier : IAlertNotifier, IAsyncDisposable
{
    /// <summary>Prometheus' <c>maxBatchSize</c>.</summary>
    public const int MaxBatchSize = 64;

    private readonly AlertmanagerTargets _targets;
    private readonly ConcurrentDictionary<(string Tenant, string Url), AlertmanagerSendLoop> _loops = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _refresh;
    private int _disposed;

    /// <summary>Starts the notifier; throws <see cref="ArgumentException"/> (Loki's text) for an invalid URL.</summary>
    public AlertmanagerNotifier(AlertmanagerNotifierOptions options, NotifierMetrics metrics, Action<string>? log = null, AlertmanagerTargets? targets = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.NotificationQueueCapacity, 1);
        Options = options;
        Metrics = metrics;
        Log = log;
        _targets = targets ?? new AlertmanagerTargets(options);
        Http = new HttpClient(options.AlertmanagerClient.Tls.CreateHandler()) { Timeout = Timeout.InfiniteTimeSpan };
        _refresh = _targets.Discovery ? RefreshLoopAsync() : Task.CompletedTask;
    }

    /// <summary>The Alertmanagers known now.</summary>
    public IReadOnlyList<AlertmanagerEndpoint> Alertmanagers => _targets.Current;

    internal AlertmanagerNotifierOptions Options { get; }

    internal NotifierMetrics Metrics { get; }

    internal Action<string>? Log { get; }

    internal HttpClient Http { get; }

    /// <inheritdoc />
    public void Send(string tenant, IReadOnlyList<AlertNotification> alerts)
    {
        if (alerts.Count == 0 || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        var endpoints = _targets.Current;
        Metrics.QueueCapacity.WithLabels(tenant).Set(Options.NotificationQueueCapacity);
        Metrics.AlertmanagersDiscovered.WithLabels(tenant).Set(endpoints.Count);
        foreach (var endpoint in endpoints)
        {
            var loop = _loops.GetOrAdd((tenant, endpoint.PostUrl.ToString()), key => new AlertmanagerSendLoop(this, key.Tenant, endpoint));
            loop.Add(alerts);
        }
    }

    /// <summary>Stops taking alerts and sends what is queued, giving up (counted as dropped) after the drain timeout.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops.Values.Select(l => l.StopAsync(Options.DrainTimeout)).Append(_refresh)).ConfigureAwait(false);
        Http.Dispose();
        _stopping.Dispose();
    }

    private async Task RefreshLoopAsync()
    {
        try
        {
            while (true)
            {
                await _targets.RefreshAsync(Log, _stopping.Token).ConfigureAwait(false);
                await RetireVanishedAsync().ConfigureAwait(false);
                await Task.Delay(Options.AlertmanagerRefreshInterval, _stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // An Alertmanager no longer in DNS gets nothing new; what its loop still holds is dropped and counted.
    private async Task RetireVanishedAsync()
    {
        var current = _targets.Current.Select(e => e.PostUrl.ToString()).ToHashSet(StringComparer.Ordinal);
        foreach (var tenant in _loops.Keys.Select(k => k.Tenant).Distinct())
        {
            Metrics.AlertmanagersDiscovered.WithLabels(tenant).Set(current.Count);
        }

        foreach (var (key, loop) in _loops)
        {
            if (!current.Contains(key.Url) && _loops.TryRemove(key, out _))
            {
                await loop.StopAsync(TimeSpan.Zero).ConfigureAwait(false);
            }
        }
    }
}
