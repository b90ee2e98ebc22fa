namespace LokiSharp.Server.Hosting;

/// <summary>How far shutdown has progressed; read by <c>/ready</c> and the request gate.</summary>
public sealed class ServerState
{
    private volatile bool _stopping;
    private volatile bool _refusingRequests;

    /// <summary>True once SIGTERM/SIGINT (or a stop request) has been received: <c>/ready</c> answers 503.</summary>
    public bool Stopping => _stopping;

    /// <summary>True once the shutdown delay is over: new requests are turned away while in-flight ones finish.</summary>
    public bool RefusingRequests => _refusingRequests;

    /// <summary>Marks the process as stopping.</summary>
    public void MarkStopping() => _stopping = true;

    /// <summary>Starts refusing new requests.</summary>
    public void RefuseRequests()
    {
        _stopping = true;
        _refusingRequests = true;
    }
}
