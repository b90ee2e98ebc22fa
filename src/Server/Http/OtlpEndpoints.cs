using Google.Protobuf;
using LokiSharp.Ingester.Otlp.Protos;
using LokiSharp.Ingester.Push;

namespace LokiSharp.Server.Http;

/// <summary>The OTLP/HTTP logs receiver, <c>POST /otlp/v1/logs</c>, answering as Loki's distributor does.</summary>
internal static class OtlpEndpoints
{
    public static void MapOtlpEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var gate = endpoints.ServiceProvider.GetRequiredService<PushGate>();
        endpoints.MapPost("/otlp/v1/logs", (HttpContext context) => PushAsync(context, gate));
    }

    private static async Task PushAsync(HttpContext context, PushGate gate)
    {
        if (!gate.Ready)
        {
            await WriteStatusAsync(context, StatusCodes.Status503ServiceUnavailable, PushGate.NotReadyMessage).ConfigureAwait(false);
            return;
        }

        // Loki rejects a missing or bad tenant in its auth middleware, before the OTLP handler: plain text.
        var tenant = gate.TenantOf(context.Request, out var tenantError);
        if (tenant is null)
        {
            await PlainText.WriteAsync(context, tenantError.Status, tenantError.Message).ConfigureAwait(false);
            return;
        }

        var request = context.Request;
        var outcome = await gate.Pipeline.PushAsync(tenant,
            new PushBody(PushEndpoint.Otlp, request.Body, request.ContentLength, request.ContentType, request.Headers.ContentEncoding.ToString()),
            context.RequestAborted).ConfigureAwait(false);
        if (outcome.StatusCode == StatusCodes.Status204NoContent)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        await WriteStatusAsync(context, outcome.StatusCode, outcome.Message).ConfigureAwait(false);
    }

    /// <summary>
    /// Loki's OTLP error answer: a 500 becomes 503 so that OTLP clients retry, and the body is a serialized
    /// <c>google.rpc.Status</c> with code 0 and the error text, for JSON requests too. Loki sets its content
    /// type only after writing the status line, so what clients actually see is Go's sniffed
    /// <c>application/octet-stream</c>; that is what is sent here.
    /// </summary>
    internal static async Task WriteStatusAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status == StatusCodes.Status500InternalServerError ? StatusCodes.Status503ServiceUnavailable : status;
        var bytes = new Status { Message = message }.ToByteArray();
        if (bytes.Length == 0)
        {
            return;
        }

        context.Response.ContentType = "application/octet-stream";
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }
}
