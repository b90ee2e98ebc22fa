using System.Diagnostics;
using System.Net;
using System.Text;

namespace LokiSharp.IntegrationTests.Deploy;

/// <summary>
/// The scalable shape's gateway, run by the real nginx on its own config from deploy/k8s/scalable (only the
/// Service host names, the listen port and the scratch paths rewritten for loopback): each path reaches the
/// role that serves it, with the tenant header, and a tail's WebSocket upgrade passes through.
/// </summary>
public sealed class GatewayRoutingTests : IAsyncLifetime
{
    private static readonly string[] Upstreams = ["write", "read", "backend"];

    private readonly List<(string Name, HttpListener Listener)> _upstreams = [];
    private readonly List<(string Name, string Method, string Path, string? Tenant, string? Upgrade)> _seen = [];
    private readonly HttpClient _client = new() { Timeout = TimeSpan.FromSeconds(10) };
    private string _scratch = "";
    private Process? _nginx;
    private int _port;

    public async Task InitializeAsync()
    {
        _scratch = Directory.CreateTempSubdirectory("lokisharp-gateway-").FullName;
        var config = DeployFiles.ConfigMapFile("loki-gateway", "nginx.conf", DeployFiles.ScalableManifestNames);
        foreach (var name in Upstreams)
        {
            var port = LokiProcess.FreePort();
            var listener = new HttpListener();
            // nginx sends the upstream's name (write, read, backend) as the Host header.
            listener.Prefixes.Add($"http://*:{port}/");
            listener.Start();
            _upstreams.Add((name, listener));
            _ = ServeAsync(name, listener);
            config = config.Replace($"server loki-{name}.{DeployFiles.Namespace}.svc.cluster.local:3100;", $"server 127.0.0.1:{port};", StringComparison.Ordinal);
        }

        _port = LokiProcess.FreePort();
        Assert.Contains("listen 8080;", config, StringComparison.Ordinal);
        config = config.Replace("listen 8080;", $"listen 127.0.0.1:{_port};", StringComparison.Ordinal)
            .Replace("/tmp/", _scratch + "/", StringComparison.Ordinal);
        Assert.DoesNotContain("svc.cluster.local", config, StringComparison.Ordinal);
        var configPath = Path.Combine(_scratch, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config);

        var start = new ProcessStartInfo("/usr/sbin/nginx") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-c", configPath, "-p", _scratch, "-e", "stderr", "-g", "daemon off; master_process off;" })
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            _nginx = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException($"nginx is required by this test ({e.Message}); install it with apt-get install nginx-light");
        }

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if ((await _client.GetAsync($"http://127.0.0.1:{_port}/")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (attempt < 100 && !_nginx.HasExited)
            {
            }

            if (_nginx.HasExited || attempt >= 100)
            {
                throw new Xunit.Sdk.XunitException($"nginx did not start: {await _nginx.StandardError.ReadToEndAsync()}");
            }

            await Task.Delay(50);
        }
    }

    public Task DisposeAsync()
    {
        if (_nginx is { HasExited: false })
        {
            _nginx.Kill(entireProcessTree: true);
            _nginx.WaitForExit();
        }

        _nginx?.Dispose();
        foreach (var (_, listener) in _upstreams)
        {
            listener.Close();
        }

        _client.Dispose();
        Directory.Delete(_scratch, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Each_request_reaches_the_role_that_serves_it_with_the_tenant_header()
    {
        (string Method, string Path, string Upstream)[] requests =
        [
            ("POST", "/loki/api/v1/push", "write"),
            ("POST", "/api/prom/push", "write"),
            ("POST", "/otlp/v1/logs", "write"),
            ("GET", "/loki/api/v1/query_range?query=%7Bapp%3D%22django%22%7D", "read"),
            ("GET", "/loki/api/v1/labels", "read"),
            ("GET", "/ready", "read"),
            ("POST", "/loki/api/v1/delete?query=%7Bapp%3D%22django%22%7D&start=1", "backend"),
            ("POST", "/loki/api/v1/rules/shop", "backend"),
            ("GET", "/prometheus/api/v1/rules", "backend"),
        ];

        foreach (var (method, path, upstream) in requests)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), $"http://127.0.0.1:{_port}{path}");
            request.Headers.Add("X-Scope-OrgID", "shop");
            if (method == "POST")
            {
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            }

            using var response = await _client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(upstream, await response.Content.ReadAsStringAsync());
        }

        lock (_seen)
        {
            Assert.Equal(requests.Select(r => (r.Upstream, r.Method, r.Path, (string?)"shop")), _seen.Select(s => (s.Name, s.Method, s.Path, s.Tenant)));
        }
    }

    [Fact]
    public async Task A_tail_upgrade_reaches_the_readers_with_its_upgrade_header()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{_port}/loki/api/v1/tail?query=%7Bapp%3D%22django%22%7D");
        request.Headers.Add("Upgrade", "websocket");
        request.Headers.Add("Connection", "Upgrade");

        using var response = await _client.SendAsync(request);

        Assert.Equal("read", await response.Content.ReadAsStringAsync());
        lock (_seen)
        {
            Assert.Equal(("read", "websocket"), (_seen[^1].Name, _seen[^1].Upgrade));
        }
    }

    private async Task ServeAsync(string name, HttpListener listener)
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            lock (_seen)
            {
                _seen.Add((name, context.Request.HttpMethod, context.Request.RawUrl ?? "", context.Request.Headers["X-Scope-OrgID"], context.Request.Headers["Upgrade"]));
            }

            var body = Encoding.UTF8.GetBytes(name);
            context.Response.StatusCode = 200;
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        }
    }
}
