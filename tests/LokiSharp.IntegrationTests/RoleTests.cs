using System.Globalization;
using System.Net;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// <c>-target</c> roles with real processes: each serves only its modules' routes (the rest answer Loki's
/// <c>404 page not found</c>), lists them in <c>/services</c>, and a reader shares a writer's directory safely.
/// </summary>
public sealed class RoleTests
{
    private const string NotFound = "404 page not found\n";

    private static string Config(string prefix) => $$$"""
        auth_enabled: false
        server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
        common: {path_prefix: {{{prefix}}}}
        schema_config:
          configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
        compactor: {compaction_interval: 1h, retention_enabled: true, delete_request_store: filesystem}
        """;

    private static string Push(long ns) =>
        $$"""{"streams":[{"stream":{"app":"roles"},"values":[["{{ns.ToString(CultureInfo.InvariantCulture)}}","hello from the writer"]]}]}""";

    [Fact]
    public async Task Write_and_read_share_a_directory_each_serving_only_its_routes()
    {
        var shared = Directory.CreateTempSubdirectory("lokisharp-roles-").FullName;
        try
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
            var query = "/loki/api/v1/query_range?query=%7Bapp%3D%22roles%22%7D&start=" + (now - 3_600_000_000_000L) + "&end=" + (now + 60_000_000_000L);
            await using (var writer = await LokiProcess.StartAsync(Config(shared), true, "-target=write"))
            {
                Assert.Equal((HttpStatusCode.OK, "server => Running\nruntime-config => Running\nstore => Running\ningester => Running\ndistributor => Running\n"),
                    await writer.SendAsync(HttpMethod.Get, "/services"));
                Assert.Equal(HttpStatusCode.NoContent, (await writer.SendAsync(HttpMethod.Post, "/loki/api/v1/push", Push(now))).Status);
                Assert.Equal((HttpStatusCode.NotFound, NotFound), await writer.SendAsync(HttpMethod.Get, query));
                Assert.Equal((HttpStatusCode.NotFound, NotFound), await writer.SendAsync(HttpMethod.Get, "/loki/api/v1/delete"));
                Assert.Equal(HttpStatusCode.NoContent, (await writer.SendAsync(HttpMethod.Post, "/flush")).Status);

                // A second process writing the same directory would corrupt it: it is refused at start-up.
                var (code, output) = await LokiProcess.RunToExitAsync(Config(shared), "-target=backend");
                Assert.Equal(1, code);
                Assert.Contains("is locked by another LokiSharp process", output, StringComparison.Ordinal);

                await using var reader = await LokiProcess.StartAsync(Config(shared), true, "-target=read");
                Assert.Equal((HttpStatusCode.OK, "server => Running\nruntime-config => Running\nstore => Running\nquery-frontend => Running\nquerier => Running\n"),
                    await reader.SendAsync(HttpMethod.Get, "/services"));
                var (status, body) = await reader.SendAsync(HttpMethod.Get, query);
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Contains("hello from the writer", body, StringComparison.Ordinal);
                Assert.Equal((HttpStatusCode.NotFound, NotFound), await reader.SendAsync(HttpMethod.Post, "/loki/api/v1/push", Push(now)));
                Assert.Equal((HttpStatusCode.NotFound, NotFound), await reader.SendAsync(HttpMethod.Post, "/flush"));
                Assert.Equal(HttpStatusCode.OK, (await reader.SendAsync(HttpMethod.Get, "/ready")).Status);
                Assert.Contains("target: read", (await reader.SendAsync(HttpMethod.Get, "/config")).Body, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    [Fact]
    public async Task Backend_runs_the_compactor_and_the_ruler()
    {
        await using var server = await LokiProcess.StartAsync(Config("${DATA}"), true, "-target=backend");

        Assert.Equal((HttpStatusCode.OK, "server => Running\nruntime-config => Running\nstore => Running\ncompactor => Running\nruler => Running\n"),
            await server.SendAsync(HttpMethod.Get, "/services"));
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Get, "/loki/api/v1/delete")).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Get, "/prometheus/api/v1/rules")).Status);
        Assert.Equal((HttpStatusCode.NotFound, NotFound), await server.SendAsync(HttpMethod.Get, "/loki/api/v1/labels"));
    }

    [Fact]
    public async Task A_target_list_runs_the_union_and_a_querier_makes_no_write_ahead_log()
    {
        await using var server = await LokiProcess.StartAsync(Config("${DATA}"), true, "-target=querier,compactor");

        Assert.Equal((HttpStatusCode.OK, "server => Running\nruntime-config => Running\nstore => Running\nquerier => Running\ncompactor => Running\n"),
            await server.SendAsync(HttpMethod.Get, "/services"));
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Get, "/loki/api/v1/labels")).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Get, "/loki/api/v1/delete")).Status);
        Assert.Equal((HttpStatusCode.NotFound, NotFound), await server.SendAsync(HttpMethod.Post, "/loki/api/v1/push", Push(1)));
        Assert.False(Directory.Exists(Path.Combine(server.WorkDir, "data", "wal")));
    }

    [Theory]
    [InlineData("-target=index-gateway", "target \"index-gateway\" is not supported by LokiSharp; it runs all, read, write, backend, distributor, ingester, querier, compactor, ruler")]
    [InlineData("-target=bogus", "unrecognised module name: bogus")]
    public async Task Targets_it_cannot_run_fail_start_up_with_their_name(string flag, string expected)
    {
        var (code, output) = await LokiProcess.RunToExitAsync(null, flag);

        Assert.Equal(1, code);
        Assert.Contains("failed parsing config: embedded default config: key target: " + expected, output, StringComparison.Ordinal);
    }
}
