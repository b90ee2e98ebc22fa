using System.Net.Http.Json;
using System.Text.Json;

namespace LokiSharp.Tests.Neighbours;

/// <summary>
/// The real Alertmanager (<c>/usr/bin/prometheus-alertmanager</c>, Debian's package) on a free loopback port, with
/// clustering off and a receiver that notifies nobody: tests read what it received through its own v2 API.
/// </summary>
public sealed class AlertmanagerFixture() : NeighbourFixture("lokisharp-alertmanager-")
{
    public const string Program = "/usr/bin/prometheus-alertmanager";

    private const string Config = """
        route:
          receiver: nobody
          group_wait: 1h
        receivers:
          - name: nobody
        """;


    /// <summary>The base URL, e.g. <c>http://127.0.0.1:40123</c>.</summary>
    public Uri Url { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        var port = NeighbourProcess.FreePort();
        Url = new Uri($"http://127.0.0.1:{port}");
        var configFile = Path.Combine(WorkDirectory, "alertmanager.yml");
        await File.WriteAllTextAsync(configFile, Config);
        Process = await NeighbourProcess.StartAsync(Program,
            [
                $"--config.file={configFile}", $"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                $"--storage.path={Path.Combine(WorkDirectory, "data")}",
            ],
            Path.Combine(WorkDirectory, "alertmanager.log"), new Uri(Url, "/-/ready"));
    }

    /// <summary>Alertmanager's <c>GET /api/v2/alerts</c> (active alerts), optionally filtered by a label matcher.</summary>
    public async Task<JsonElement[]> AlertsAsync(string? filter = null)
    {
        var query = filter is null ? "" : "?filter=" + Uri.EscapeDataString(filter);
        var alerts = await Http.GetFromJsonAsync<JsonElement[]>(new Uri(Url, "/api/v2/alerts" + query));
        return alerts ?? [];
    }
}
