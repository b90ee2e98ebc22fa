namespace LokiSharp.Tests.Neighbours;

/// <summary>
/// What a real neighbour's fixture owns: a scratch directory, the started <see cref="NeighbourProcess"/> and an HTTP
/// client for its API; disposing stops the process and removes the directory.
/// </summary>
public abstract class NeighbourFixture(string directoryPrefix) : IAsyncLifetime
{
    /// <summary>Scratch directory for the neighbour's config, data and log.</summary>
    protected string WorkDirectory { get; } = Directory.CreateTempSubdirectory(directoryPrefix).FullName;

    /// <summary>The running neighbour, once <see cref="InitializeAsync"/> started it.</summary>
    protected NeighbourProcess? Process { get; set; }

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    public abstract Task InitializeAsync();

    public Task DisposeAsync()
    {
        Process?.Dispose();
        Http.Dispose();
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }
}
