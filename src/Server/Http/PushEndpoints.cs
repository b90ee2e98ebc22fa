using System.Buffers;
using LokiSharp.Ingester.Push;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace LokiSharp.Server.Http;

/// <summary>The write endpoints: <c>/loki/api/v1/push</c>, legacy <c>/api/prom/push</c>, <c>/flush</c>, <c>/ingester/shutdown</c>.</summary>
internal static class PushEndpoints
{
    public static void MapPushEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/loki/api/v1/push", static (HttpContext context, Ingester.StreamIngester ingester, Tenancy tenancy, PushSizeLimits limits) =>
            PushAsync(context, ingester, tenancy, limits, PushEndpoint.V1));
        endpoints.MapPost("/api/prom/push", static (HttpContext context, Ingester.StreamIngester ingester, Tenancy tenancy, PushSizeLimits limits) =>
            PushAsync(context, ingester, tenancy, limits, PushEndpoint.Legacy));

        endpoints.MapMethods("/flush", ["GET", "POST"], static async (HttpContext context, Ingester.StreamIngester ingester) =>
        {
            // A failed flush (disk full) answers 500 with its reason; the chunks stay in memory and the WAL.
            await ingester.FlushAsync(force: true, context.RequestAborted).ConfigureAwait(false);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });

        endpoints.MapMethods("/ingester/shutdown", ["GET", "POST"], static async (HttpContext context, Ingester.StreamIngester ingester,
            Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime, Hosting.ServerState state) =>
        {
            if (state.Stopping)
            {
                await PlainText.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Ingester is stopping or already stopped.").ConfigureAwait(false);
                return;
            }

            var flush = context.Request.Query["flush"].ToString() != "false";
            if (flush)
            {
                await ingester.FlushAsync(force: true, context.RequestAborted).ConfigureAwait(false);
            }

            context.Response.StatusCode = StatusCodes.Status204NoContent;
            if (context.Request.Query["terminate"].ToString() != "false")
            {
                lifetime.StopApplication();
            }
        });
    }

    private static async Task PushAsync(HttpContext context, Ingester.StreamIngester ingester, Tenancy tenancy, PushSizeLimits limits, PushEndpoint endpoint)
    {
        if (!context.RequestServices.GetRequiredService<Hosting.IngesterModule>().Running)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Ingester not ready: the write-ahead log is replaying").ConfigureAwait(false);
            return;
        }

        var tenant = tenancy.ResolveSingle(context.Request.Headers["X-Scope-OrgID"].ToString(), out var tenantError);
        if (tenant is null)
        {
            await PlainText.WriteAsync(context, tenantError.Status, tenantError.Message).ConfigureAwait(false);
            return;
        }

        var length = context.Request.ContentLength;
        if (length > limits.MaxBodySize)
        {
            var tooLarge = PushBodyDecoder.TooLarge(length.Value, limits.MaxBodySize);
            await PlainText.WriteAsync(context, tooLarge.StatusCode, tooLarge.Message).ConfigureAwait(false);
            return;
        }

        var (body, bodyLength) = await ReadBodyAsync(context.Request, limits.MaxBodySize, context.RequestAborted).ConfigureAwait(false);
        try
        {
            if (bodyLength > limits.MaxBodySize)
            {
                var tooLarge = PushBodyDecoder.TooLarge(bodyLength, limits.MaxBodySize);
                await PlainText.WriteAsync(context, tooLarge.StatusCode, tooLarge.Message).ConfigureAwait(false);
                return;
            }

            using var batch = PushBodyDecoder.Decode(body.AsMemory(0, bodyLength), context.Request.ContentType, context.Request.Headers.ContentEncoding.ToString(),
                endpoint, limits.MaxDecompressedSize);
            var outcome = await ingester.PushAsync(tenant, batch, context.RequestAborted).ConfigureAwait(false);
            if (outcome.StatusCode == StatusCodes.Status204NoContent)
            {
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            }

            await PlainText.WriteAsync(context, outcome.StatusCode, outcome.Message).ConfigureAwait(false);
        }
        catch (PushRequestException e)
        {
            await PlainText.WriteAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
        }
        finally
        {
            PushBuffers.Pool.Return(body);
        }
    }

    // Reads the whole body into a buffer from the push pool, stopping just past the size limit; shared with the OTLP route.
    internal static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpRequest request, long maxBodySize, CancellationToken cancellationToken)
    {
        // One byte past the limit tells a body that is too large; an array cannot be longer anyway.
        var capacity = (int)Math.Min(maxBodySize + 1, Array.MaxLength);
        var buffer = PushBuffers.Pool.Rent((int)Math.Min(Math.Max(request.ContentLength ?? 64 * 1024, 1024), capacity));
        var length = 0;
        try
        {
            while (true)
            {
                // The pool may hand out more than asked: reads never go past the capacity.
                var room = Math.Min(buffer.Length, capacity);
                if (length == room)
                {
                    if (room == capacity)
                    {
                        return (buffer, length);
                    }

                    var bigger = PushBuffers.Pool.Rent((int)Math.Min((long)buffer.Length * 2, capacity));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    PushBuffers.Pool.Return(buffer);
                    buffer = bigger;
                    continue;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length, room - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return (buffer, length);
                }

                length += read;
            }
        }
        catch
        {
            PushBuffers.Pool.Return(buffer);
            throw;
        }
    }
}
