using Grpc.Core;
using LokiSharp.Ingester.Push;
using LokiSharp.Server.Http;

namespace LokiSharp.Server.Grpc;

/// <summary>A gRPC push: the decoded batch, or why it could not be decoded.</summary>
internal sealed record GrpcPush(PushBatch? Batch, PushRequestException? Error);

/// <summary>
/// <c>logproto.Pusher/Push</c> on the gRPC port. Bound by hand with a marshaller that decodes the request
/// bytes with the same <see cref="ProtobufPushDecoder"/> as HTTP (<see cref="PushPipeline.DecodeMessage"/>), and
/// pushed through the same <see cref="PushPipeline"/> and validation
/// (Loki skips it on this path; we do not). Errors carry the HTTP status as the gRPC code, as Loki's httpgrpc does.
/// </summary>
[BindServiceMethod(typeof(PusherService), nameof(BindService))]
internal class PusherService(PushGate gate)
{
    private static readonly Method<GrpcPush, byte[]> PushMethod = new(
        MethodType.Unary,
        "logproto.Pusher",
        "Push",
        Marshallers.Create<GrpcPush>(static (_, _) => throw new NotSupportedException("requests are only received"), Decode),
        Marshallers.Create<byte[]>(static (response, context) => context.Complete(response), static context => context.PayloadAsNewBuffer()));

    public static void BindService(ServiceBinderBase binder, PusherService? service) =>
        binder.AddMethod(PushMethod, service is null ? null : service.Push);

    /// <summary>Handles one push; the response is the empty <c>PushResponse</c>.</summary>
    /// <remarks>Virtual because Grpc.AspNetCore binds only virtual methods declared on the bound type.</remarks>
    public virtual async Task<byte[]> Push(GrpcPush request, ServerCallContext context)
    {
        var tenant = gate.TenantOf(context, out var tenantError);
        if (tenant is null)
        {
            throw new RpcException(new Status((StatusCode)tenantError.Status, tenantError.Message));
        }

        if (!gate.Ready)
        {
            request.Batch?.Dispose();
            throw new RpcException(new Status(StatusCode.Unavailable, PushGate.NotReadyMessage));
        }

        if (request.Error is { } error)
        {
            throw new RpcException(new Status((StatusCode)error.StatusCode, error.Message));
        }

        using var batch = request.Batch!;
        var outcome = await gate.Pipeline.PushAsync(tenant, batch, context.CancellationToken).ConfigureAwait(false);
        if (outcome.StatusCode != 204)
        {
            throw new RpcException(new Status((StatusCode)outcome.StatusCode, outcome.Message));
        }

        return [];
    }

    private static GrpcPush Decode(DeserializationContext context)
    {
        try
        {
            return new GrpcPush(PushPipeline.DecodeMessage(context.PayloadAsReadOnlySequence()), null);
        }
        catch (PushRequestException e)
        {
            return new GrpcPush(null, e);
        }
    }
}
