using System.Text;
using LokiSharp.LogQL.Labels;
using LokiSharp.Ruler.RemoteWrite;
using LokiSharp.Ruler.Tests.Delivery;

namespace LokiSharp.Ruler.Tests.RemoteWrite;

/// <summary>The remote-write client against a recording fake: headers, body, retry decisions, queue bounds.</summary>
public sealed class RemoteWriteClientTests
{
    private static readonly LabelSet Series = LabelSet.From(("__name__", "rec"), ("job", "j"));

    [Fact]
    public async Task Posts_a_snappy_protobuf_write_request_with_remote_write_headers_auth_and_the_tenant()
    {
        using var server = new RecordingHttpServer();
        var options = new RemoteWriteOptions
        {
            Url = new Uri(server.Url, "/api/v1/write"),
            Headers = new Dictionary<string, string> { ["X-Custom"] = "yes", [" x-scope-orgid "] = "someone-else" },
            BasicAuthUsername = "u",
            BasicAuthPassword = "p",
        };
        var metrics = RemoteWriteTestData.NewMetrics();
        await using (var client = new RemoteWriteClient(options, metrics))
        {
            client.Append("tenant-a", [new RecordedSample(Series, 1_000, 2.5), new RecordedSample(Series, 2_000, 3.5)]);
            await Eventually.HoldsAsync(() => server.Requests.Count == 1, "posted");
        }

        var request = server.Requests.Single();
        Assert.Equal("POST", request.Method);
        Assert.Equal("/api/v1/write", request.Path);
        Assert.Equal("snappy", request.Headers["Content-Encoding"]);
        Assert.Equal("application/x-protobuf", request.Headers["Content-Type"]);
        Assert.Equal("0.1.0", request.Headers["X-Prometheus-Remote-Write-Version"]);
        Assert.StartsWith("LokiSharp/", request.Headers["User-Agent"], StringComparison.Ordinal);
        Assert.Equal("tenant-a", request.Headers["X-Scope-OrgID"]);
        Assert.Single(request.Headers.GetValues("X-Scope-OrgID")!);
        Assert.Equal("yes", request.Headers["X-Custom"]);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("u:p")), request.Headers["Authorization"]);
        var series = Assert.Single(RemoteWriteTestData.Decode(request.Body).Timeseries);
        Assert.Equal([(1_000L, 2.5), (2_000L, 3.5)], series.Samples.Select(s => (s.Timestamp, s.Value)));
        var name = RemoteWriteTestData.RemoteName(options.Url);
        Assert.Equal(2, metrics.Samples.WithLabels("tenant-a", name, options.Url.ToString()).Value);
    }

    [Theory]
    [InlineData("X-Prometheus-Remote-Write-Version", "X-Prometheus-Remote-Write-Version is a reserved header. It must not be changed")]
    [InlineData("content-type", "content-type is a reserved header. It must not be changed")]
    [InlineData("Authorization", "authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter")]
    public void Headers_the_protocol_owns_are_refused_with_Prometheus_texts(string header, string message)
    {
        var options = new RemoteWriteOptions { Url = new Uri("http://prometheus:9090/api/v1/write"), Headers = new Dictionary<string, string> { [header] = "x" } };
        Assert.Equal(message, Assert.Throws<ArgumentException>(options.Validate).Message);
    }

    [Fact]
    public async Task Server_errors_and_429_are_retried_until_accepted()
    {
        int[] statuses = [500, 429, 503, 204];
        using var server = new RecordingHttpServer(i => statuses[Math.Min(i, statuses.Length - 1)]);
        var options = new RemoteWriteOptions { Url = server.Url, MinBackoff = TimeSpan.FromMilliseconds(1), AddOrgIdHeader = false };
        var metrics = RemoteWriteTestData.NewMetrics();
        await using (var client = new RemoteWriteClient(options, metrics))
        {
            client.Append("t", [new RecordedSample(Series, 1_000, 1)]);
            await Eventually.HoldsAsync(() => metrics.Samples.WithLabels("t", RemoteWriteTestData.RemoteName(server.Url), server.Url.ToString()).Value == 1, "delivered");
        }

        Assert.Equal(4, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Null(r.Headers["X-Scope-OrgID"]));
        Assert.Equal(3, metrics.SamplesRetried.WithLabels("t", RemoteWriteTestData.RemoteName(server.Url), server.Url.ToString()).Value);
    }

    [Fact]
    public async Task A_client_error_is_not_retried_and_counts_the_samples_as_failed_while_the_next_batch_goes_out()
    {
        using var server = new RecordingHttpServer(i => i == 0 ? 400 : 200);
        var options = new RemoteWriteOptions { Url = server.Url, MinBackoff = TimeSpan.FromMilliseconds(1) };
        var metrics = RemoteWriteTestData.NewMetrics();
        var labels = new[] { "t", RemoteWriteTestData.RemoteName(server.Url), server.Url.ToString() };
        await using (var client = new RemoteWriteClient(options, metrics))
        {
            client.Append("t", [new RecordedSample(Series, 1_000, 1), new RecordedSample(Series, 2_000, 2)]);
            await Eventually.HoldsAsync(() => metrics.SamplesFailed.WithLabels(labels).Value == 2, "counted as failed");
            client.Append("t", [new RecordedSample(Series, 3_000, 3)]);
            await Eventually.HoldsAsync(() => metrics.Samples.WithLabels(labels).Value == 1, "the next batch delivered");
        }

        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(0, metrics.SamplesRetried.WithLabels(labels).Value);
    }

    [Fact]
    public async Task Several_clients_each_receive_every_sample_while_one_of_them_is_refused()
    {
        using var refusing = new RecordingHttpServer(_ => 503);
        using var accepting = new RecordingHttpServer();
        var metrics = RemoteWriteTestData.NewMetrics();
        await using (var clients = new RemoteWriteClients(
        [
            new RemoteWriteClient(new RemoteWriteOptions { Url = refusing.Url, Name = "down", MinBackoff = TimeSpan.FromMilliseconds(1), DrainTimeout = TimeSpan.FromMilliseconds(50) }, metrics),
            new RemoteWriteClient(new RemoteWriteOptions { Url = accepting.Url, Name = "up" }, metrics),
        ]))
        {
            clients.Append("t", [new RecordedSample(Series, 1_000, 1)]);
            await Eventually.HoldsAsync(() => metrics.Samples.WithLabels("t", "up", accepting.Url.ToString()).Value == 1, "delivered to the one that is up");
            await Eventually.HoldsAsync(() => metrics.SamplesRetried.WithLabels("t", "down", refusing.Url.ToString()).Value >= 2, "retried on the other");
        }

        // Still refused when the drain timeout ran out: the retried sample is dropped and counted.
        Assert.Equal(1, metrics.SamplesDropped.WithLabels("t", "down", refusing.Url.ToString()).Value);
    }

    [Fact]
    public async Task Stopping_sends_what_is_still_queued()
    {
        using var server = new RecordingHttpServer();
        var client = new RemoteWriteClient(new RemoteWriteOptions { Url = server.Url, MaxSamplesPerSend = 10 }, RemoteWriteTestData.NewMetrics());
        client.Append("t", [.. Enumerable.Range(1, 95).Select(i => new RecordedSample(Series, i * 1_000L, i))]);
        await client.DisposeAsync();
        Assert.Equal(95, server.Requests.Sum(r => RemoteWriteTestData.Decode(r.Body).Timeseries.Single().Samples.Count));
    }

    [Fact]
    public async Task Batches_hold_at_most_max_samples_per_send_and_a_full_queue_drops_the_oldest()
    {
        using var server = new RecordingHttpServer();
        var options = new RemoteWriteOptions { Url = server.Url, QueueCapacity = 5, MaxSamplesPerSend = 2 };
        var metrics = RemoteWriteTestData.NewMetrics();
        var labels = new[] { "t", RemoteWriteTestData.RemoteName(server.Url), server.Url.ToString() };
        await using (var client = new RemoteWriteClient(options, metrics))
        {
            client.Append("t", [.. Enumerable.Range(1, 7).Select(i => new RecordedSample(Series, i * 1_000L, i))]);
            await Eventually.HoldsAsync(() => metrics.Samples.WithLabels(labels).Value == 5, "the kept samples delivered");
        }

        Assert.Equal(2, metrics.SamplesDropped.WithLabels(labels).Value);
        var sent = server.Requests.Select(r => RemoteWriteTestData.Decode(r.Body).Timeseries.Single().Samples.Select(s => s.Value).ToArray()).ToArray();
        Assert.Equal([[3.0, 4.0], [5.0, 6.0], [7.0]], sent);
    }
}
