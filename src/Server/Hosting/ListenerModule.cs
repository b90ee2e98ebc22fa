namespace LokiSharp.Server.Hosting;

/// <summary>
/// Loki's <c>server</c> module: the HTTP and gRPC listeners. Kestrel itself is started and drained by the host;
/// this module only reports their state, and is Running once the host has started them.
/// </summary>
internal sealed class ListenerModule : ILokiModule
{
    public string Name => "server";

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
