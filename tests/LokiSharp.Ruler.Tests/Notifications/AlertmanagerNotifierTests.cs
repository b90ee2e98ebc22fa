using System.Net;
using System.Text;
using System.Text.Json;
using LokiSharp.Ruler.Alerting;
using LokiSharp.Ruler.Delivery;
using LokiSharp.Ruler.Notifications;
using LokiSharp.Ruler.Tests.Delivery;

namespace LokiSharp.Ruler.Tests.Notifications;

/// <summary>The notifier against a recording fake: headers, batching, URL handling and queue bounds.</summary>
public sealed class AlertmanagerNotifierTests
{
    [Fact]
    public async Task Posts_json_with_the_tenant_and_basic_auth_to_the_path_prefix_in_batches_of_64()
    {
        using var server = new RecordingHttpServer();
        var options = new AlertmanagerNotifierOptions
        {
            AlertmanagerUrl = new Uri(server.Url, "/am/prefix/").ToString(),
            AlertmanagerClient = new AlertmanagerClientOptions { BasicAuthUsername = "ruler", BasicAuthPassword = "s3cret" },
        };
        var metrics = NotifierTestData.NewMetrics();
        await using (var notifier = new AlertmanagerNotifier(options, metrics))
        {
            var now = NotifierTestData.Now();
            notifier.Send("tenant-a", [.. Enumerable.Range(0, 100).Select(i => NotifierTestData.Firing($"A{i}", now))]);
            await Eventually.HoldsAsync(() => server.Requests.Count == 2, "two batches posted");
        }

        var requests = server.Requests.ToArray();
        Assert.All(requests, r =>
        {
            Assert.Equal("POST", r.Method);
            Assert.Equal("/am/prefix/api/v2/alerts", r.Path);
            Assert.Equal("application/json", r.Headers["Content-Type"]);
            Assert.Equal("tenant-a", r.Headers["X-Scope-OrgID"]);
            Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ruler:s3cret")), r.Headers["Authorization"]);
        });
        Assert.Equal([64, 36], requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetArrayLength()));
        var url = new Uri(server.Url, "/am/prefix/api/v2/alerts").ToString();
        Assert.Equal(100, metrics.Sent.WithLabels("tenant-a", url).Value);
        Assert.Equal(0, metrics.Errors.WithLabels("tenant-a", url).Value);
        Assert.Equal(10_000, metrics.QueueCapacity.WithLabels("tenant-a").Value);
    }

    [Fact]
    public async Task A_user_and_password_in_the_url_are_basic_auth_and_credentials_are_a_bearer_token_otherwise()
    {
        using var server = new RecordingHttpServer();
        var withUser = new UriBuilder(server.Url) { UserName = "am", Password = "pw" }.Uri.ToString();
        await using (var notifier = new AlertmanagerNotifier(new AlertmanagerNotifierOptions { AlertmanagerUrl = withUser }, NotifierTestData.NewMetrics()))
        {
            notifier.Send("t", [NotifierTestData.Firing("A", NotifierTestData.Now())]);
            await Eventually.HoldsAsync(() => server.Requests.Count == 1, "posted");
        }

        var bearer = new AlertmanagerNotifierOptions
        {
            AlertmanagerUrl = server.Url.ToString(),
            AlertmanagerClient = new AlertmanagerClientOptions { Credentials = "tok" },
        };
        await using (var notifier = new AlertmanagerNotifier(bearer, NotifierTestData.NewMetrics()))
        {
            notifier.Send("t", [NotifierTestData.Firing("A", NotifierTestData.Now())]);
            await Eventually.HoldsAsync(() => server.Requests.Count == 2, "posted");
        }

        var requests = server.Requests.ToArray();
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("am:pw")), requests[0].Headers["Authorization"]);
        Assert.Equal("/api/v2/alerts", requests[0].Path);
        Assert.Equal("Bearer tok", requests[1].Headers["Authorization"]);
    }

    [Fact]
    public async Task More_alerts_than_the_queue_holds_drop_the_oldest_and_count_them()
    {
        using var server = new RecordingHttpServer();
        var metrics = NotifierTestData.NewMetrics();
        var options = new AlertmanagerNotifierOptions { AlertmanagerUrl = server.Url.ToString(), NotificationQueueCapacity = 3 };
        await using (var notifier = new AlertmanagerNotifier(options, metrics))
        {
            var now = NotifierTestData.Now();
            notifier.Send("t", [.. Enumerable.Range(0, 5).Select(i => NotifierTestData.Firing($"A{i}", now))]);
            await Eventually.HoldsAsync(() => server.Requests.Count == 1, "posted");
        }

        Assert.Equal(2, metrics.Dropped.WithLabels("t", new Uri(server.Url, "/api/v2/alerts").ToString()).Value);
        var names = JsonDocument.Parse(server.Requests.Single().Body).RootElement.EnumerateArray()
            .Select(a => a.GetProperty("labels").GetProperty("alertname").GetString());
        Assert.Equal(["A2", "A3", "A4"], names);
    }

    [Fact]
    public async Task An_Alertmanager_answering_an_error_status_counts_errors_and_the_batch_as_dropped()
    {
        using var server = new RecordingHttpServer(_ => 500);
        var metrics = NotifierTestData.NewMetrics();
        var url = new Uri(server.Url, "/api/v2/alerts").ToString();
        await using (var notifier = new AlertmanagerNotifier(new AlertmanagerNotifierOptions { AlertmanagerUrl = server.Url.ToString() }, metrics))
        {
            notifier.Send("t", [NotifierTestData.Firing("A", NotifierTestData.Now()), NotifierTestData.Firing("B", NotifierTestData.Now())]);
            await Eventually.HoldsAsync(() => metrics.Dropped.WithLabels("t", url).Value == 2, "the batch counted as dropped");
        }

        Assert.Equal(2, metrics.Errors.WithLabels("t", url).Value);
        Assert.Equal(0, metrics.Sent.WithLabels("t", url).Value);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task An_Alertmanager_that_never_answers_does_not_hold_up_the_others_and_stopping_drops_its_queue()
    {
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var silentUrl = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
        using var server = new RecordingHttpServer();
        var metrics = NotifierTestData.NewMetrics();
        var options = new AlertmanagerNotifierOptions
        {
            AlertmanagerUrl = $"{silentUrl},{server.Url}",
            NotificationTimeout = TimeSpan.FromHours(1),
            DrainTimeout = TimeSpan.FromMilliseconds(100),
        };
        await using (var notifier = new AlertmanagerNotifier(options, metrics))
        {
            notifier.Send("t", [NotifierTestData.Firing("A", NotifierTestData.Now())]);
            notifier.Send("t", [NotifierTestData.Firing("B", NotifierTestData.Now())]);
            await Eventually.HoldsAsync(() => metrics.Sent.WithLabels("t", new Uri(server.Url, "/api/v2/alerts").ToString()).Value == 2,
                "both alerts delivered to the answering Alertmanager");
            Assert.Equal(0, metrics.Sent.WithLabels("t", silentUrl + "/api/v2/alerts").Value);
        }

        // The hung POST is cut at the drain timeout: its alert and the one still queued behind it are dropped.
        Assert.Equal(2, metrics.Dropped.WithLabels("t", silentUrl + "/api/v2/alerts").Value);
    }

    [Fact]
    public async Task Stopping_sends_what_is_still_queued()
    {
        using var server = new RecordingHttpServer();
        var notifier = new AlertmanagerNotifier(new AlertmanagerNotifierOptions { AlertmanagerUrl = server.Url.ToString() }, NotifierTestData.NewMetrics());
        var now = NotifierTestData.Now();
        notifier.Send("t", [.. Enumerable.Range(0, 200).Select(i => NotifierTestData.Firing($"A{i}", now))]);
        await notifier.DisposeAsync();
        Assert.Equal(200, server.Requests.Sum(r => JsonDocument.Parse(r.Body).RootElement.GetArrayLength()));
        notifier.Send("t", [NotifierTestData.Firing("After", now)]);
    }

    [Fact]
    public async Task Https_Alertmanagers_are_verified_against_the_CA_file_or_not_at_all_with_skip_verify()
    {
        using var server = new TlsHttpServer();
        var url = new Uri(server.Url, "/api/v2/alerts").ToString();

        async Task<NotifierMetrics> SendOneAsync(ClientTls tls)
        {
            var metrics = NotifierTestData.NewMetrics();
            var options = new AlertmanagerNotifierOptions
            {
                AlertmanagerUrl = server.Url.ToString(),
                AlertmanagerClient = new AlertmanagerClientOptions { Tls = tls },
            };
            await using var notifier = new AlertmanagerNotifier(options, metrics);
            notifier.Send("t", [NotifierTestData.Firing("A", NotifierTestData.Now())]);
            await Eventually.HoldsAsync(() => metrics.Sent.WithLabels("t", url).Value + metrics.Errors.WithLabels("t", url).Value == 1, "sent or failed");
            return metrics;
        }

        Assert.Equal(1, (await SendOneAsync(new ClientTls())).Errors.WithLabels("t", url).Value);
        Assert.Equal(0, server.Requests);
        Assert.Equal(1, (await SendOneAsync(new ClientTls(CaFile: server.CaFile))).Sent.WithLabels("t", url).Value);
        Assert.Equal(1, (await SendOneAsync(new ClientTls(InsecureSkipVerify: true))).Sent.WithLabels("t", url).Value);

        // The refused one reached nothing; the two trusted ones arrived.
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public void Discovery_needs_an_SRV_name_with_Lokis_message()
    {
        var options = new AlertmanagerNotifierOptions { AlertmanagerUrl = "http://alertmanager:9093", EnableAlertmanagerDiscovery = true };
        var error = Assert.Throws<ArgumentException>(() => new AlertmanagerTargets(options));
        Assert.Equal("when alertmanager-discovery is on, host name must be of the form _portname._tcp.service.fqdn (is \"alertmanager:9093\")",
            error.Message);
    }

    [Fact]
    public async Task Discovered_Alertmanagers_come_from_the_SRV_answer_with_the_path_prefix_and_a_failed_lookup_keeps_the_last()
    {
        var answers = new Queue<Func<IReadOnlyList<DnsEndPoint>>>();
        answers.Enqueue(() => [new DnsEndPoint("am-0.am.svc.", 9093), new DnsEndPoint("am-1.am.svc.", 9094)]);
        answers.Enqueue(() => throw new InvalidOperationException("SERVFAIL"));
        var options = new AlertmanagerNotifierOptions { AlertmanagerUrl = "https://_http._tcp.am.svc/alertmanager", EnableAlertmanagerDiscovery = true };
        var targets = new AlertmanagerTargets(options, (name, _) =>
        {
            Assert.Equal("_http._tcp.am.svc", name);
            return Task.FromResult(answers.Dequeue()());
        });
        Assert.Empty(targets.Current);
        await targets.RefreshAsync(null, CancellationToken.None);
        string[] expected = ["https://am-0.am.svc:9093/alertmanager/api/v2/alerts", "https://am-1.am.svc:9094/alertmanager/api/v2/alerts"];
        Assert.Equal(expected, targets.Current.Select(e => e.PostUrl.ToString()));
        var logged = new List<string>();
        await targets.RefreshAsync(logged.Add, CancellationToken.None);
        Assert.Equal(expected, targets.Current.Select(e => e.PostUrl.ToString()));
        Assert.Contains("SERVFAIL", Assert.Single(logged));
    }

    [Fact]
    public async Task Send_returns_at_once_while_an_Alertmanager_does_not_answer()
    {
        // A listener that accepts connections and never answers: the notifier times out on it in the background.
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
        var metrics = NotifierTestData.NewMetrics();
        var options = new AlertmanagerNotifierOptions { AlertmanagerUrl = url, NotificationTimeout = TimeSpan.FromMilliseconds(200) };
        await using var notifier = new AlertmanagerNotifier(options, metrics);
        var alerts = new List<AlertNotification> { NotifierTestData.Firing("A", NotifierTestData.Now()) };
        notifier.Send("t", alerts);
        notifier.Send("t", alerts);
        await Eventually.HoldsAsync(() => metrics.Errors.WithLabels("t", url + "/api/v2/alerts").Value == 2, "both sends timed out");
    }
}
