namespace LokiSharp.Server.Hosting;

/// <summary>
/// A module with no background work of its own, only routes (the distributor, query-frontend and querier): it is
/// listed in <c>/services</c> so that they show what the target runs, and its routes are mapped only when it runs.
/// </summary>
internal sealed class RouteModule(string name) : ILokiModule
{
    public string Name => name;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
