using System.Diagnostics;
using System.Net.Http.Headers;
using LokiSharp.Ruler.Alerting;
using LokiSharp.Ruler.Delivery;

namespace LokiSharp.Ruler.Notifications;

/// <summary>
/// One tenant's queue for one Alertmanager and the loop that drains it (Prometheus' <c>sendLoop</c>): batches of at
/// most 64 alerts, one POST each with the notification timeout; a batch the Alertmanager does not take is dropped
/// and counted, never retried (the rule's resend delay sends it again).
/// </summary>
internal sealed class AlertmanagerSendLoop
{
    private static readonly string UserAgent = $"LokiSharp/{typeof(AlertmanagerSendLoop).Assembly.GetName().Version?.ToString(3)}";

    private readonly AlertmanagerNotifier _notifier;
    private readonly string _tenant;
    private readonly AlertmanagerEndpoint _endpoint;
    private readonly string _url;
    private readonly DropOldestQueue<AlertNotification> _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly Task _loop;

    public AlertmanagerSendLoop(AlertmanagerNotifier notifier, string tenant, AlertmanagerEndpoint endpoint)
    {
        _notifier = notifier;
        _tenant = tenant;
        _endpoint = endpoint;
        _url = endpoint.PostUrl.ToString();
        _queue = new DropOldestQueue<AlertNotification>(notifier.Options.NotificationQueueCapacity);
        // Present from the start, as Prometheus initialises them, so a rate() over them works before the first error.
        notifier.Metrics.Sent.WithLabels(tenant, _url);
        notifier.Metrics.Errors.WithLabels(tenant, _url);
        notifier.Metrics.Dropped.WithLabels(tenant, _url);
        _loop = RunAsync();
    }

    public void Add(IReadOnlyList<AlertNotification> alerts)
    {
        // A loop retired by discovery (or stopping) sends nothing more.
        var dropped = _stopping.IsCancellationRequested ? alerts.Count : _queue.Enqueue(alerts);
        if (dropped > 0)
        {
            _notifier.Metrics.Dropped.WithLabels(_tenant, _url).Inc(dropped);
            _notifier.Log?.Invoke($"level=warn msg=\"Alert notification queue full, dropping alerts\" user={_tenant} alertmanager={_url} count={dropped}");
        }

        _notifier.Metrics.QueueLength.WithLabels(_tenant, _url).Set(_queue.Count);
    }

    /// <summary>Sends what is queued for at most <paramref name="drainTimeout"/>, then drops (and counts) the rest.</summary>
    public async Task StopAsync(TimeSpan drainTimeout)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _abort.CancelAfter(drainTimeout);
        await _loop.ConfigureAwait(false);
        _abort.Dispose();
        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        // Off the caller's thread: Send returns as soon as the alerts are queued.
        await Task.Yield();
        while (!_abort.IsCancellationRequested)
        {
            var batch = _queue.Take(AlertmanagerNotifier.MaxBatchSize);
            _notifier.Metrics.QueueLength.WithLabels(_tenant, _url).Set(_queue.Count);
            if (batch.Count > 0)
            {
                if (!await SendAsync(batch).ConfigureAwait(false))
                {
                    _notifier.Metrics.Dropped.WithLabels(_tenant, _url).Inc(batch.Count);
                }

                continue;
            }

            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            try
            {
                await _queue.WaitAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping: the next passes send what is left.
            }
        }

        var left = _queue.Take(int.MaxValue).Count;
        if (left > 0)
        {
            _notifier.Metrics.Dropped.WithLabels(_tenant, _url).Inc(left);
            _notifier.Metrics.QueueLength.WithLabels(_tenant, _url).Set(0);
            _notifier.Log?.Invoke(
                $"level=warn msg=\"Alert notification queue not drained on shutdown, dropping alerts\" user={_tenant} alertmanager={_url} count={left}");
        }
    }

    private async Task<bool> SendAsync(List<AlertNotification> batch)
    {
        var metrics = _notifier.Metrics;
        var options = _notifier.Options;
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
            timeout.CancelAfter(options.NotificationTimeout);
            var payload = AlertmanagerPayload.Write(batch, options.ExternalLabels);
            using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint.PostUrl) { Content = new ByteArrayContent(payload) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
            request.Headers.Add("X-Scope-OrgID", _tenant);
            request.Headers.Authorization = await AuthorizationAsync(timeout.Token).ConfigureAwait(false);
            using var response = await _notifier.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if ((int)response.StatusCode / 100 != 2)
            {
                return Failed(batch.Count, $"bad response status {(int)response.StatusCode} {response.ReasonPhrase}");
            }
        }
        catch (Exception e) // a dead Alertmanager, a timeout, an unreadable credentials file: counted, never fatal
        {
            return Failed(batch.Count, e.Message);
        }

        metrics.Latency.WithLabels(_tenant, _url).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        metrics.Sent.WithLabels(_tenant, _url).Inc(batch.Count);
        return true;
    }

    private bool Failed(int count, string error)
    {
        _notifier.Metrics.Errors.WithLabels(_tenant, _url).Inc(count);
        _notifier.Log?.Invoke($"level=error msg=\"Error sending alerts\" user={_tenant} alertmanager={_url} count={count} err=\"{error}\"");
        return false;
    }

    // Basic auth (from the URL or alertmanager_client) wins over header credentials.
    private async Task<AuthenticationHeaderValue?> AuthorizationAsync(CancellationToken cancellationToken)
    {
        if (_endpoint.BasicAuth is not null)
        {
            return _endpoint.BasicAuth;
        }

        var client = _notifier.Options.AlertmanagerClient;
        var credentials = client.Credentials;
        if (credentials.Length == 0 && client.CredentialsFile.Length > 0)
        {
            credentials = (await File.ReadAllTextAsync(client.CredentialsFile, cancellationToken).ConfigureAwait(false)).Trim();
        }

        return credentials.Length == 0 ? null : new AuthenticationHeaderValue(client.Type.Length == 0 ? "Bearer" : client.Type, credentials);
    }
}
