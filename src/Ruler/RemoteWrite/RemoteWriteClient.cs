using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using LokiSharp.Ruler.Delivery;

namespace LokiSharp.Ruler.RemoteWrite;

/// <summary>
/// Sends recorded samples with Prometheus remote write 1.0: one bounded queue per tenant (oldest dropped when full,
/// counted), drained in batches of <c>max_samples_per_send</c>; a batch is retried with exponential backoff on 5xx,
/// 429 and network errors and given up on any other 4xx. <see cref="Append"/> never waits for the receiver.
/// </summary>
public sealed partial class RemoteWriteClient : IRecordedSampleSink, IAsyncDisposable
{
    private readonly RemoteWriteOptions _options;
    private readonly RemoteWriteMetrics _metrics;
    private readonly Action<string>? _log;
    private readonly HttpClient _http;
    private readonly string _remoteName;
    private readonly string _url;
    private readonly ConcurrentDictionary<string, TenantQueue> _tenants = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abort = new();
    private int _disposed;

    /// <summary>Starts the client; throws <see cref="ArgumentException"/> (Prometheus' texts) for invalid options.</summary>
    public RemoteWriteClient(RemoteWriteOptions options, RemoteWriteMetrics metrics, Action<string>? log = null)
    {
        options.Validate();
        _options = options;
        _metrics = metrics;
        _log = log;
        _url = options.Url.ToString();
        // Prometheus names an unnamed queue after a hash of its config; ours hashes the URL, stable across restarts.
        _remoteName = options.Name.Length > 0 ? options.Name : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(_url)))[..6];
        _http = new HttpClient(options.Tls.CreateHandler()) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <inheritdoc />
    public void Append(string tenant, IReadOnlyList<RecordedSample> samples)
    {
        if (samples.Count == 0 || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        var queue = _tenants.GetOrAdd(tenant, t => new TenantQueue(this, t));
        var highest = long.MinValue;
        foreach (var sample in samples)
        {
            highest = Math.Max(highest, sample.TimestampMs);
        }

        _metrics.HighestTimestamp.WithLabels(tenant).IncTo(highest / 1000.0);
        var dropped = queue.Items.Enqueue(samples);
        if (dropped > 0)
        {
            _metrics.SamplesDropped.WithLabels(tenant, _remoteName, _url).Inc(dropped);
            _log?.Invoke($"level=warn msg=\"remote write queue full, dropping samples\" tenant={tenant} url={_url} num_dropped={dropped}");
        }

        _metrics.SamplesPending.WithLabels(tenant, _remoteName, _url).Set(queue.Items.Count);
    }

    /// <summary>Stops taking samples and sends what is queued, giving up (counted as dropped) after the drain timeout.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _abort.CancelAfter(_options.DrainTimeout);
        await Task.WhenAll(_tenants.Values.Select(t => t.Loop)).ConfigureAwait(false);
        _http.Dispose();
        _abort.Dispose();
        _stopping.Dispose();
    }

    private async Task DrainLoopAsync(TenantQueue queue)
    {
        await Task.Yield();
        var pending = _metrics.SamplesPending.WithLabels(queue.Tenant, _remoteName, _url);
        while (!_abort.IsCancellationRequested)
        {
            var batch = queue.Items.Take(_options.MaxSamplesPerSend);
            if (batch.Count > 0)
            {
                await SendWithRetriesAsync(queue.Tenant, batch).ConfigureAwait(false);
                pending.Set(queue.Items.Count);
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
            _metrics.SamplesDropped.WithLabels(queue.Tenant, _remoteName, _url).Inc(left);
            pending.Set(0);
        }
    }

    private sealed class TenantQueue
    {
        public TenantQueue(RemoteWriteClient client, string tenant)
        {
            Tenant = tenant;
            Items = new DropOldestQueue<RecordedSample>(client._options.QueueCapacity);
            Loop = client.DrainLoopAsync(this);
        }

        public string Tenant { get; }

        public DropOldestQueue<RecordedSample> Items { get; }

        public Task Loop { get; }
    }
}
