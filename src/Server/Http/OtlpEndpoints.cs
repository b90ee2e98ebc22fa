using System.Buffers;
using Google.Protobuf;
using LokiSharp.Ingester.Limits;
using LokiSharp.Ingester.Otlp;
using LokiSharp.Ingester.Otlp.Protos;
using LokiSharp.Ingester.Push;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace LokiSharp.Server.Http;

/// <summary>The OTLP/HTTP logs receiver, <c>POST /otlp/v1/logs</c>, answering as Loki's distributor does.</summary>
internal static class OtlpEndpoints
{
    public static void MapOtlpEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/otlp/v1/logs", static (HttpContext context, Ingester.StreamIngester ingester, Tenancy tenancy, ITenantLimits limits, PushSizeLimits sizeLimits,
            TimeProvider time) => PushAsync(context, ingester, tenancy, limits, sizeLimits, time));

    private static async Task PushAsync(HttpContext context, Ingester.StreamIngester ingester, Tenancy tenancy, ITenantLimits limits, PushSizeLimits sizeLimits,
        TimeProvider time)
    {
        if (!context.RequestServices.GetRequiredService<Hosting.IngesterModule>().Running)
        {
            await WriteStatusAsync(context, StatusCodes.Status503ServiceUnavailable, "Ingester not ready: the write-ahead log is replaying").ConfigureAwait(false);
            return;
        }

        // Loki rejects a missing or bad tenant in its auth middleware, before the OTLP handler: plain text.
        var tenant = tenancy.ResolveSingle(context.Request.Headers["X-Scope-OrgID"].ToString(), out var tenantError);
        if (tenant is null)
        {
            await PlainText.WriteAsync(context, tenantError.Status, tenantError.Message).ConfigureAwait(false);
            return;
        }

        var length = context.Request.ContentLength;
        if (length > sizeLimits.MaxBodySize)
        {
            var tooLarge = PushBodyDecoder.TooLarge(length.Value, sizeLimits.MaxBodySize);
            await WriteStatusAsync(context, tooLarge.StatusCode, tooLarge.Message).ConfigureAwait(false);
            return;
        }

        var (body, bodyLength) = await PushEndpoints.ReadBodyAsync(context.Request, sizeLimits.MaxBodySize, context.RequestAborted).ConfigureAwait(false);
        try
        {
            if (bodyLength > sizeLimits.MaxBodySize)
            {
                var tooLarge = PushBodyDecoder.TooLarge(bodyLength, sizeLimits.MaxBodySize);
                await WriteStatusAsync(context, tooLarge.StatusCode, tooLarge.Message).ConfigureAwait(false);
                return;
            }

            var tenantLimits = limits.For(tenant);
            var mapping = tenantLimits.Otlp with { DiscoverServiceName = tenantLimits.DiscoverServiceName };
            var now = time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000;
            using var batch = OtlpLogsDecoder.Decode(body.AsMemory(0, bodyLength), context.Request.ContentType,
                context.Request.Headers.ContentEncoding.ToString(), mapping, now, sizeLimits.MaxDecompressedSize);
            var outcome = await ingester.PushAsync(tenant, batch, context.RequestAborted).ConfigureAwait(false);
            if (outcome.StatusCode == StatusCodes.Status204NoContent)
            {
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            }

            await WriteStatusAsync(context, outcome.StatusCode, outcome.Message).ConfigureAwait(false);
        }
        catch (PushRequestException e)
        {
            await WriteStatusAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
        }
        finally
        {
            PushBuffers.Pool.Return(body);
        }
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
