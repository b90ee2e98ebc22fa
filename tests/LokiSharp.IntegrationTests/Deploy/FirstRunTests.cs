using System.Net;
using System.Text;

namespace LokiSharp.IntegrationTests.Deploy;

/// <summary>The README's first run: `dotnet run` keeps everything under ./data of the directory it ran in.</summary>
public sealed class FirstRunTests
{
    [Fact]
    public async Task Dotnet_run_starts_the_server_in_the_directory_it_was_run_from()
    {
        var elsewhere = Directory.CreateTempSubdirectory("lokisharp-run-").FullName;
        try
        {
            var project = Path.Combine(DeployFiles.RepositoryRoot, "src", "Server", "LokiSharp.Server.csproj");
            var (exitCode, output) = await ExternalTool.RunAsync("dotnet", ["msbuild", project, "-getProperty:RunWorkingDirectory"], elsewhere);

            Assert.True(exitCode == 0, output);
            Assert.Equal(elsewhere, output.Trim().TrimEnd('/'));
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Fact]
    public async Task The_embedded_default_keeps_the_wal_chunks_and_compactor_state_under_data()
    {
        await using var server = await LokiProcess.StartAsync();
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        using (var push = await server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative),
                   new StringContent($$"""{"streams":[{"stream":{"app":"first"},"values":[["{{ts}}","hello"]]}]}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.NoContent, push.StatusCode);
        }

        using (var flush = await server.Http.PostAsync(new Uri("/flush", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, flush.StatusCode);
        }

        Assert.Equal(["data"], Directory.GetFileSystemEntries(server.WorkDir).Select(Path.GetFileName));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(server.WorkDir, "data", "wal"), "*.wal"));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(server.WorkDir, "data", "chunks"), "*.pack", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Git_ignores_the_data_directory_dotnet_run_creates()
    {
        var (exitCode, output) = await ExternalTool.RunAsync("git", ["check-ignore", "-v", "data/wal/0000000001.wal"], DeployFiles.RepositoryRoot);

        Assert.True(exitCode == 0, "data/ is not ignored: " + output);
    }
}
