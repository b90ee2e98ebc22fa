using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace LokiSharp.Tests.Neighbours;

/// <summary>
/// The real Prometheus (<c>/usr/bin/prometheus</c>, Debian's package) on a loopback port with its remote-write
/// receiver on and nothing to scrape: tests write to <see cref="RemoteWriteUrl"/> and read back with PromQL.
/// </summary>
public sealed class PrometheusFixture : NeighbourFixture
{
    public const string Program = "/usr/bin/prometheus";

    private readonly int _port;

    /// <summary>A fixture for a free port; <see cref="InitializeAsync"/> starts it (xunit does for class fixtures).</summary>
    public PrometheusFixture()
        : this(NeighbourProcess.FreePort())
    {
    }

    private PrometheusFixture(int port)
        : base("lokisharp-prometheus-")
    {
        _port = port;
        Url = new Uri($"http://127.0.0.1:{port}");
    }

    public Uri Url { get; }

    /// <summary>A fixture for <paramref name="port"/>, e.g. one a client is already retrying against; not started yet.</summary>
    public static PrometheusFixture OnPort(int port) => new(port);

    /// <summary>The remote-write receiver, <c>/api/v1/write</c>.</summary>
    public Uri RemoteWriteUrl => new(Url, "/api/v1/write");

    public override async Task InitializeAsync()
    {
        var configFile = Path.Combine(WorkDirectory, "prometheus.yml");
        await File.WriteAllTextAsync(configFile, "global:\n  scrape_interval: 1h\n");
        Process = await NeighbourProcess.StartAsync(Program,
            [
                $"--config.file={configFile}", $"--web.listen-address=127.0.0.1:{_port}",
                $"--storage.tsdb.path={Path.Combine(WorkDirectory, "data")}", "--web.enable-remote-write-receiver",
            ],
            Path.Combine(WorkDirectory, "prometheus.log"), new Uri(Url, "/-/ready"));
    }

    /// <summary>A PromQL instant query at <paramref name="time"/>: the <c>data.result</c> array.</summary>
    public async Task<JsonElement[]> QueryAsync(string promql, DateTimeOffset time)
    {
        var seconds = (time.ToUnixTimeMilliseconds() / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);
        var url = new Uri(Url, $"/api/v1/query?query={Uri.EscapeDataString(promql)}&time={seconds}");
        var body = await Http.GetFromJsonAsync<JsonElement>(url);
        return [.. body.GetProperty("data").GetProperty("result").EnumerateArray()];
    }
}
