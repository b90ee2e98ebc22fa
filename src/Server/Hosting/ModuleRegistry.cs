using System.Text;

namespace LokiSharp.Server.Hosting;

/// <summary>A service's lifecycle state, named as Loki's <c>/services</c> and <c>/ready</c> print them.</summary>
public enum ModuleState
{
    New,
    Starting,
    Running,
    Stopping,
    Terminated,
    Failed,
}

/// <summary>
/// One long-running part of the server (HTTP/gRPC listeners, runtime config, later the ingester, querier and
/// compactor). Rooms do not know the host: the host wraps what they expose into modules.
/// </summary>
public interface ILokiModule
{
    /// <summary>Loki's module name, e.g. <c>server</c>, <c>ingester</c>.</summary>
    string Name { get; }

    /// <summary>Brings the module to Running; throwing fails start-up.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Runs after the HTTP and gRPC servers have drained, so in-flight requests have finished.</summary>
    Task StopAsync(CancellationToken cancellationToken);
}

/// <summary>The modules of this process and their states, in start order.</summary>
public sealed class ModuleRegistry
{
    private readonly Lock _lock = new();
    private readonly List<(ILokiModule Module, ModuleState State)> _modules = [];

    /// <summary>Adds a module in state New; modules start in the order they were added.</summary>
    public void Add(ILokiModule module)
    {
        lock (_lock)
        {
            _modules.Add((module, ModuleState.New));
        }
    }

    /// <summary>The modules in start order.</summary>
    public IReadOnlyList<ILokiModule> Modules
    {
        get
        {
            lock (_lock)
            {
                return _modules.ConvertAll(static m => m.Module);
            }
        }
    }

    /// <summary>Records a state change.</summary>
    public void SetState(ILokiModule module, ModuleState state)
    {
        lock (_lock)
        {
            var index = _modules.FindIndex(m => ReferenceEquals(m.Module, module));
            if (index >= 0)
            {
                _modules[index] = (module, state);
            }
        }
    }

    /// <summary>Whether every module is Running.</summary>
    public bool AllRunning
    {
        get
        {
            lock (_lock)
            {
                return _modules.TrueForAll(static m => m.State == ModuleState.Running);
            }
        }
    }

    /// <summary><c>/services</c>: one <c>name => State</c> line per module.</summary>
    public string DescribeServices()
    {
        var sb = new StringBuilder();
        lock (_lock)
        {
            foreach (var (module, state) in _modules)
            {
                sb.Append(module.Name).Append(" => ").Append(state).Append('\n');
            }
        }

        return sb.ToString();
    }

    /// <summary>The 503 body of <c>/ready</c> when some module is not Running: counts per state.</summary>
    public string DescribeNotRunning()
    {
        var sb = new StringBuilder("Some services are not Running:\n");
        lock (_lock)
        {
            foreach (var state in Enum.GetValues<ModuleState>())
            {
                var count = 0;
                foreach (var module in _modules)
                {
                    if (module.State == state)
                    {
                        count++;
                    }
                }

                if (count > 0)
                {
                    sb.Append(state).Append(": ").Append(count).Append('\n');
                }
            }
        }

        return sb.ToString();
    }
}
