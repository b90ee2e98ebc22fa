using Grpc.Core;
using LokiSharp.Ingester.Push;

namespace LokiSharp.Server.Http;

/// <summary>
/// What the host decides before a push route (HTTP push, OTLP, gRPC) hands a request to the
/// <see cref="PushPipeline"/>: whether the ingester takes writes yet, and whose push it is.
/// </summary>
internal sealed class PushGate(Tenancy tenancy, Hosting.IngesterModule module, PushPipeline pipeline)
{
    /// <summary>The answer (503) while the ingester replays its WAL or has begun to stop.</summary>
    public const string NotReadyMessage = "Ingester not ready: the write-ahead log is replaying";

    /// <summary>False while the WAL replays and after shutdown began: pushes get <see cref="NotReadyMessage"/>.</summary>
    public bool Ready => module.Running;

    /// <summary>The pipeline a push goes through once it passed the gate.</summary>
    public PushPipeline Pipeline { get; } = pipeline;

    /// <summary>The tenant of an HTTP push, or null with Loki's answer (status, text) for a missing or bad one.</summary>
    public string? TenantOf(HttpRequest request, out (int Status, string Message) error) =>
        tenancy.ResolveSingle(request.Headers["X-Scope-OrgID"].ToString(), out error);

    /// <summary>The tenant of a gRPC push, or null with Loki's answer (status, text) for a missing or bad one.</summary>
    public string? TenantOf(ServerCallContext call, out (int Status, string Message) error) =>
        tenancy.ResolveSingle(call.RequestHeaders.GetValue("x-scope-orgid"), out error);
}
