using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// Backups taken while the server runs and pushes go on: an online <c>/snapshot</c> read by <c>tar</c>, and a
/// plain <c>tar</c> of the live data directory. Each is restored into a new server that must start and serve
/// what it promises.
/// </summary>
public sealed class BackupTests
{
    [Fact]
    public async Task A_snapshot_taken_during_pushes_restores_every_entry_acknowledged_before_it()
    {
        var config = Fixture();
        await using var server = await LokiProcess.StartAsync(config);
        var pushers = new Pushers(server);
        await pushers.WaitForAsync(300);
        await FlushAsync(server);
        await pushers.WaitForAsync(pushers.Acknowledged.Count + 300);

        var before = pushers.Acknowledged.ToHashSet();
        using var response = await server.Http.PostAsync(new Uri("/snapshot", UriKind.Relative), null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = JsonNode.Parse(body)!["data"]!;
        var directory = data["directory"]!.GetValue<string>();
        Assert.StartsWith(Path.Combine(server.WorkDir, "data", "snapshots"), directory, StringComparison.Ordinal);
        Assert.True(data["files"]!.GetValue<int>() > 2, body);
        await pushers.StopAsync();

        var restoreRoot = Directory.CreateTempSubdirectory("lokisharp-restore-").FullName;
        try
        {
            await TarAsync(directory, restoreRoot);
            await using var restored = await LokiProcess.StartAsync(RestoredConfig(config, restoreRoot, server.WorkDir));
            var stored = await LinesAsync(restored);
            Assert.Empty(before.Except(stored));
            Assert.Equal(stored.Count, stored.Distinct().Count());
        }
        finally
        {
            Directory.Delete(restoreRoot, recursive: true);
        }
    }

    [Fact]
    public async Task A_plain_tar_of_the_live_data_directory_restores_everything_flushed_before_it_and_starts()
    {
        var config = Fixture();
        await using var server = await LokiProcess.StartAsync(config);
        var pushers = new Pushers(server);
        await pushers.WaitForAsync(300);

        // Flushes keep running during the tar so packs, index journals and WAL segments change under it.
        await FlushAsync(server);
        var flushed = pushers.Acknowledged.ToHashSet();
        using var churn = new CancellationTokenSource();
        var flusher = Task.Run(async () =>
        {
            while (!churn.IsCancellationRequested)
            {
                await FlushAsync(server);
                await Task.Delay(50);
            }
        });

        var restoreRoot = Directory.CreateTempSubdirectory("lokisharp-restore-").FullName;
        try
        {
            await TarAsync(server.WorkDir, restoreRoot, "data");
            await churn.CancelAsync();
            await flusher;
            await pushers.StopAsync();

            await using var restored = await LokiProcess.StartAsync(RestoredConfig(config, restoreRoot, server.WorkDir, live: true));
            var stored = await LinesAsync(restored);
            Assert.Empty(flushed.Except(stored));
            Assert.Equal(HttpStatusCode.OK, (await restored.Http.GetAsync(new Uri("/ready", UriKind.Relative))).StatusCode);
        }
        finally
        {
            Directory.Delete(restoreRoot, recursive: true);
        }
    }

    // The fixture config with the WAL under the data directory, as the Kubernetes manifests have it.
    private static string Fixture() =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "loki-local-config.yaml")) + """

            ingester:
              wal:
                dir: ${DATA}/wal
            """;

    // The same config pointing at the restored copy: the snapshot mirrors absolute paths, the live tar is of
    // the working directory.
    private static string RestoredConfig(string config, string restoreRoot, string originalWorkDir, bool live = false) =>
        config.Replace("${DATA}", live
            ? Path.Combine(restoreRoot, "data")
            : Path.Combine(restoreRoot, Path.Combine(originalWorkDir, "data").TrimStart('/')), StringComparison.Ordinal);

    private static async Task TarAsync(string directory, string restoreRoot, string member = ".")
    {
        // A live tar may warn that files changed or vanished while read (exit 1); that is the case under test.
        var archive = Path.Combine(restoreRoot, "backup.tar");
        await RunAsync("tar", ["cf", archive, "-C", directory, member], okCodes: [0, 1]);
        await RunAsync("tar", ["xf", archive, "-C", restoreRoot], okCodes: [0]);
        File.Delete(archive);
    }

    private static async Task RunAsync(string program, string[] args, int[] okCodes)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(okCodes.Contains(process.ExitCode), $"{program} exited {process.ExitCode}: {error}");
    }

    private static async Task FlushAsync(LokiProcess server)
    {
        using var flush = await server.Http.PostAsync(new Uri("/flush", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.NoContent, flush.StatusCode);
    }

    private static async Task<List<string>> LinesAsync(LokiProcess server)
    {
        var lines = new List<string>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        for (var worker = 0; worker < Pushers.Workers; worker++)
        {
            var query = Uri.EscapeDataString($"{{app=\"backup\",worker=\"{worker}\"}}");
            var body = await server.Http.GetStringAsync(new Uri(
                $"/loki/api/v1/query_range?query={query}&start={now - 3600}&end={now + 60}&limit=5000", UriKind.Relative));
            var values = JsonNode.Parse(body)!["data"]!["result"]!.AsArray()
                .SelectMany(s => s!["values"]!.AsArray().Select(v => v![1]!.GetValue<string>())).ToList();
            Assert.True(values.Count < 5000, "the query limit cut the answer");
            lines.AddRange(values);
        }

        return lines;
    }

    /// <summary>Two clients pushing one line at a time, recording what was acknowledged.</summary>
    private sealed class Pushers
    {
        public const int Workers = 2;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task[] _tasks;

        public Pushers(LokiProcess server)
        {
            var baseTs = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60) * 1_000_000_000;
            _tasks = [.. Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
            {
                for (var i = 0; !_stop.IsCancellationRequested; i++)
                {
                    var line = $"worker {worker} line {i}";
                    var ts = (baseTs + (i * 1000L)).ToString(CultureInfo.InvariantCulture);
                    var body = $$"""{"streams":[{"stream":{"app":"backup","worker":"{{worker}}"},"values":[["{{ts}}","{{line}}"]]}]}""";
                    try
                    {
                        using var response = await server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative),
                            new StringContent(body, Encoding.UTF8, "application/json"), _stop.Token);
                        if (response.StatusCode == HttpStatusCode.NoContent)
                        {
                            Acknowledged.Add(line);
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }))];
        }

        public ConcurrentBag<string> Acknowledged { get; } = [];

        public async Task WaitForAsync(int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Acknowledged.Count < count && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.True(Acknowledged.Count >= count, $"only {Acknowledged.Count} pushes acknowledged");
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_tasks);
            _stop.Dispose();
        }
    }
}
