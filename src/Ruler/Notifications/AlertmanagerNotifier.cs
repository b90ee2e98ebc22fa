using System.Collections.Concurrent;
using LokiSharp.Ruler.Alerting;
using LokiSharp.Ruler.Delivery;

namespace LokiSharp.Ruler.Notifications;

/// <summary>
/// Sends alerts to every configured Alertmanager as Loki's ruler does with Prometheus' notifier: one bounded
/// queue per tenant (oldest dropped when full), drained in batches of at most 64 alerts, each batch posted to all
/// Alertmanagers at once with the tenant in <c>X-Scope-OrgID</c>. A slow or dead Alertmanager costs its own
/// timeout and an error count, never the caller's time nor the other Alertmanagers' delivery.
/// </summary>
public sealed partial class AlertmanagerNotifier : IAlertNotifier, IAsyncDisposable
{
    /// <summary>Prometheus' <c>maxBatchSize</c>.</summary>
    public const int MaxBatchSize = 64;

    private readonly AlertmanagerNotifierOptions _options;
    private readonly AlertmanagerTargets _targets;
    private readonly NotifierMetrics _metrics;
    private readonly Action<string>? _log;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, TenantQueue> _tenants = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly Task _refresh;
    private int _disposed;

    /// <summary>Starts the notifier; throws <see cref="ArgumentException"/> (Loki's text) for an invalid URL.</summary>
    public AlertmanagerNotifier(AlertmanagerNotifierOptions options, NotifierMetrics metrics, Action<string>? log = null, AlertmanagerTargets? targets = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.NotificationQueueCapacity, 1);
        _options = options;
        _metrics = metrics;
        _log = log;
        _targets = targets ?? new AlertmanagerTargets(options);
        _http = new HttpClient(options.AlertmanagerClient.Tls.CreateHandler()) { Timeout = Timeout.InfiniteTimeSpan };
        _refresh = _targets.Discovery ? RefreshLoopAsync() : Task.CompletedTask;
    }

    /// <summary>The Alertmanagers known now.</summary>
    public IReadOnlyList<AlertmanagerEndpoint> Alertmanagers => _targets.Current;

    /// <inheritdoc />
    public void Send(string tenant, IReadOnlyList<AlertNotification> alerts)
    {
        if (alerts.Count == 0 || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        var queue = _tenants.GetOrAdd(tenant, t => new TenantQueue(this, t));
        var dropped = queue.Items.Enqueue(alerts);
        if (dropped > 0)
        {
            _metrics.Dropped.WithLabels(tenant).Inc(dropped);
            _log?.Invoke($"level=warn msg=\"Alert notification queue full, dropping alerts\" user={tenant} num_dropped={dropped}");
        }

        _metrics.QueueLength.WithLabels(tenant).Set(queue.Items.Count);
    }

    /// <summary>Stops taking alerts and sends what is queued, giving up after the drain timeout.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _abort.CancelAfter(_options.DrainTimeout);
        await Task.WhenAll(_tenants.Values.Select(t => t.Loop).Append(_refresh)).ConfigureAwait(false);
        _http.Dispose();
        _abort.Dispose();
        _stopping.Dispose();
    }

    private async Task RefreshLoopAsync()
    {
        try
        {
            while (true)
            {
                await _targets.RefreshAsync(_log, _stopping.Token).ConfigureAwait(false);
                foreach (var tenant in _tenants.Keys)
                {
                    _metrics.AlertmanagersDiscovered.WithLabels(tenant).Set(_targets.Current.Count);
                }

                await Task.Delay(_options.AlertmanagerRefreshInterval, _stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task DrainLoopAsync(TenantQueue queue)
    {
        // Off the caller's thread: Send returns as soon as the alerts are queued.
        await Task.Yield();
        while (!_abort.IsCancellationRequested)
        {
            var batch = queue.Items.Take(MaxBatchSize);
            _metrics.QueueLength.WithLabels(queue.Tenant).Set(queue.Items.Count);
            if (batch.Count > 0)
            {
                await SendAllAsync(queue.Tenant, batch).ConfigureAwait(false);
                continue;
            }

            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            try
            {
                await queue.Items.WaitAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping: one more pass sends what is left.
            }
        }

        var left = queue.Items.Take(int.MaxValue).Count;
        if (left > 0)
        {
            _metrics.Dropped.WithLabels(queue.Tenant).Inc(left);
            _metrics.QueueLength.WithLabels(queue.Tenant).Set(0);
        }
    }

    private sealed class TenantQueue
    {
        public TenantQueue(AlertmanagerNotifier notifier, string tenant)
        {
            Tenant = tenant;
            Items = new DropOldestQueue<AlertNotification>(notifier._options.NotificationQueueCapacity);
            notifier._metrics.QueueCapacity.WithLabels(tenant).Set(Items.Capacity);
            notifier._metrics.AlertmanagersDiscovered.WithLabels(tenant).Set(notifier._targets.Current.Count);
            Loop = notifier.DrainLoopAsync(this);
        }

        public string Tenant { get; }

        public DropOldestQueue<AlertNotification> Items { get; }

        public Task Loop { get; }
    }
}
