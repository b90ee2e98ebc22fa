namespace LokiSharp.Server.Hosting;

/// <summary>
/// Starts the registered modules once the listeners are up, so <c>/ready</c> can answer 503 while a module (a
/// replaying WAL, say) is still starting, and stops them in reverse order only after the web server has drained
/// (<see cref="IHostedLifecycleService.StoppedAsync"/>), so an ingester flushes after the last push.
/// </summary>
internal sealed partial class ModuleHost : IHostedLifecycleService
{
    private readonly ModuleRegistry _registry;
    private readonly ServerState _state;
    private readonly TimeSpan _shutdownDelay;
    private readonly ILogger<ModuleHost> _logger;

    public ModuleHost(ModuleRegistry registry, ServerState state, Configuration.LokiConfig config, ILogger<ModuleHost> logger)
    {
        _registry = registry;
        _state = state;
        _shutdownDelay = config.ShutdownDelay;
        _logger = logger;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        foreach (var module in _registry.Modules)
        {
            _registry.SetState(module, ModuleState.Starting);
            try
            {
                await module.StartAsync(cancellationToken).ConfigureAwait(false);
                _registry.SetState(module, ModuleState.Running);
                LogStarted(module.Name);
            }
            catch (Exception e)
            {
                _registry.SetState(module, ModuleState.Failed);
                LogFailed(e, module.Name);
                throw;
            }
        }
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        // Like Loki's shutdown_delay: report not-ready first so load balancers drain us, keep serving meanwhile.
        _state.MarkStopping();
        if (_shutdownDelay > TimeSpan.Zero)
        {
            LogShutdownDelay(_shutdownDelay.TotalSeconds);
            try
            {
                await Task.Delay(_shutdownDelay, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The host's shutdown timeout cut the delay short; carry on stopping.
            }
        }

        _state.RefuseRequests();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        var modules = _registry.Modules;
        for (var i = modules.Count - 1; i >= 0; i--)
        {
            var module = modules[i];
            _registry.SetState(module, ModuleState.Stopping);
            try
            {
                await module.StopAsync(cancellationToken).ConfigureAwait(false);
                _registry.SetState(module, ModuleState.Terminated);
                LogStopped(module.Name);
            }
            catch (Exception e)
            {
                _registry.SetState(module, ModuleState.Failed);
                LogFailed(e, module.Name);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "delaying shutdown, /ready reports 503 meanwhile")]
    private partial void LogShutdownDelay(double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "module started")]
    private partial void LogStarted(string module);

    [LoggerMessage(Level = LogLevel.Information, Message = "module stopped")]
    private partial void LogStopped(string module);

    [LoggerMessage(Level = LogLevel.Error, Message = "module failed")]
    private partial void LogFailed(Exception e, string module);
}
