using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace LokiSharp.Ruler.RemoteWrite;

/// <summary>Sending one batch: the request, and retries with backoff while the error is recoverable.</summary>
public sealed partial class RemoteWriteClient
{
    private static readonly string UserAgent = $"LokiSharp/{typeof(RemoteWriteClient).Assembly.GetName().Version?.ToString(3)}";

    private enum Outcome
    {
        Sent,
        Recoverable,
        Failed,
    }

    private async Task SendWithRetriesAsync(string tenant, List<RecordedSample> batch)
    {
        var body = WriteRequestEncoder.Encode(batch);
        var backoff = _options.MinBackoff;
        while (true)
        {
            var started = Stopwatch.GetTimestamp();
            var (outcome, error) = await SendOnceAsync(tenant, body).ConfigureAwait(false);
            _metrics.SentBatchDuration.WithLabels(tenant, _remoteName, _url).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            switch (outcome)
            {
                case Outcome.Sent:
                    _metrics.Samples.WithLabels(tenant, _remoteName, _url).Inc(batch.Count);
                    _metrics.Bytes.WithLabels(tenant, _remoteName, _url).Inc(body.Length);
                    _metrics.HighestSentTimestamp.WithLabels(tenant, _remoteName, _url).IncTo(batch.Max(s => s.TimestampMs) / 1000.0);
                    return;
                case Outcome.Failed:
                    _metrics.SamplesFailed.WithLabels(tenant, _remoteName, _url).Inc(batch.Count);
                    _log?.Invoke($"level=error msg=\"non-recoverable error\" tenant={tenant} url={_url} count={batch.Count} err=\"{error}\"");
                    return;
            }

            if (_abort.IsCancellationRequested)
            {
                _metrics.SamplesDropped.WithLabels(tenant, _remoteName, _url).Inc(batch.Count);
                return;
            }

            _metrics.SamplesRetried.WithLabels(tenant, _remoteName, _url).Inc(batch.Count);
            _log?.Invoke($"level=warn msg=\"Failed to send batch, retrying\" tenant={tenant} url={_url} count={batch.Count} err=\"{error}\"");
            try
            {
                await Task.Delay(backoff, _abort.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _metrics.SamplesDropped.WithLabels(tenant, _remoteName, _url).Inc(batch.Count);
                return;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
        }
    }

    private async Task<(Outcome Outcome, string? Error)> SendOnceAsync(string tenant, byte[] body)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
            timeout.CancelAfter(_options.RemoteTimeout);
            using var request = new HttpRequestMessage(HttpMethod.Post, _options.Url) { Content = new ByteArrayContent(body) };
            foreach (var (name, value) in _options.Headers)
            {
                // Loki drops any configured X-Scope-OrgID, however spelt, so a header cannot pose as another tenant.
                if (!name.Trim().Equals("X-Scope-OrgID", StringComparison.OrdinalIgnoreCase))
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }
            }

            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
            request.Content.Headers.ContentEncoding.Add("snappy");
            request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
            request.Headers.Add("X-Prometheus-Remote-Write-Version", "0.1.0");
            if (_options.AddOrgIdHeader)
            {
                request.Headers.Add("X-Scope-OrgID", tenant);
            }

            request.Headers.Authorization = Authorization();
            using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status / 100 == 2)
            {
                return (Outcome.Sent, null);
            }

            var text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            var error = $"server returned HTTP status {status} {response.ReasonPhrase}: {Truncate(text.TrimEnd())}";
            // Prometheus' queue manager: 5xx and 429 are recoverable, every other status is not.
            return (status / 100 == 5 || response.StatusCode == HttpStatusCode.TooManyRequests ? Outcome.Recoverable : Outcome.Failed, error);
        }
        catch (Exception e)
        {
            // Refused connections, resets and timeouts are recoverable: the receiver may come back.
            return (Outcome.Recoverable, e.Message);
        }
    }

    private AuthenticationHeaderValue? Authorization()
    {
        if (_options.BasicAuthUsername.Length > 0 || _options.BasicAuthPassword.Length > 0)
        {
            var raw = Encoding.UTF8.GetBytes(_options.BasicAuthUsername + ":" + _options.BasicAuthPassword);
            return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(raw));
        }

        return _options.AuthorizationCredentials.Length == 0
            ? null
            : new AuthenticationHeaderValue(_options.AuthorizationType.Length == 0 ? "Bearer" : _options.AuthorizationType, _options.AuthorizationCredentials);
    }

    private static string Truncate(string text) => text.Length <= 256 ? text : text[..256];
}
