using System.Diagnostics;
using System.Net.Http.Headers;
using LokiSharp.Ruler.Alerting;

namespace LokiSharp.Ruler.Notifications;

/// <summary>Posting one batch to every Alertmanager (Prometheus' <c>sendAll</c> and <c>sendOne</c>).</summary>
public sealed partial class AlertmanagerNotifier
{
    private static readonly string UserAgent = $"LokiSharp/{typeof(AlertmanagerNotifier).Assembly.GetName().Version?.ToString(3)}";

    private async Task SendAllAsync(string tenant, List<AlertNotification> batch)
    {
        var endpoints = _targets.Current;
        _metrics.AlertmanagersDiscovered.WithLabels(tenant).Set(endpoints.Count);
        if (endpoints.Count == 0)
        {
            _metrics.Dropped.WithLabels(tenant).Inc(batch.Count);
            return;
        }

        var payload = AlertmanagerPayload.Write(batch, _options.ExternalLabels);
        var results = await Task.WhenAll(endpoints.Select(e => SendOneAsync(tenant, e, payload, batch.Count))).ConfigureAwait(false);
        if (!results.Contains(true))
        {
            // Prometheus counts a batch no Alertmanager took as dropped.
            _metrics.Dropped.WithLabels(tenant).Inc(batch.Count);
        }
    }

    private async Task<bool> SendOneAsync(string tenant, AlertmanagerEndpoint endpoint, byte[] payload, int count)
    {
        var url = endpoint.PostUrl.ToString();
        var started = Stopwatch.GetTimestamp();
        var ok = false;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
            timeout.CancelAfter(_options.NotificationTimeout);
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.PostUrl) { Content = new ByteArrayContent(payload) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
            request.Headers.Add("X-Scope-OrgID", tenant);
            request.Headers.Authorization = await AuthorizationAsync(endpoint, timeout.Token).ConfigureAwait(false);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            ok = (int)response.StatusCode / 100 == 2;
            if (!ok)
            {
                _log?.Invoke($"level=error msg=\"Error sending alerts\" user={tenant} alertmanager={url} count={count} " +
                    $"err=\"bad response status {(int)response.StatusCode} {response.ReasonPhrase}\"");
            }
        }
        catch (Exception e) // a dead Alertmanager, a timeout, an unreadable credentials file: counted, never fatal
        {
            _log?.Invoke($"level=error msg=\"Error sending alerts\" user={tenant} alertmanager={url} count={count} err=\"{e.Message}\"");
        }

        if (!ok)
        {
            _metrics.Errors.WithLabels(tenant, url).Inc(count);
        }

        _metrics.Latency.WithLabels(tenant, url).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        _metrics.Sent.WithLabels(tenant, url).Inc(count);
        return ok;
    }

    // Basic auth (from the URL or alertmanager_client) wins over header credentials, as in Prometheus' client config.
    private async Task<AuthenticationHeaderValue?> AuthorizationAsync(AlertmanagerEndpoint endpoint, CancellationToken cancellationToken)
    {
        if (endpoint.BasicAuth is not null)
        {
            return endpoint.BasicAuth;
        }

        var client = _options.AlertmanagerClient;
        var credentials = client.Credentials;
        if (credentials.Length == 0 && client.CredentialsFile.Length > 0)
        {
            credentials = (await File.ReadAllTextAsync(client.CredentialsFile, cancellationToken).ConfigureAwait(false)).Trim();
        }

        return credentials.Length == 0 ? null : new AuthenticationHeaderValue(client.Type.Length == 0 ? "Bearer" : client.Type, credentials);
    }
}
