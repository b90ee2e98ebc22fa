using LokiSharp.Ingester.Push;

namespace LokiSharp.Server.Http;

/// <summary>The distributor's push endpoints: <c>/loki/api/v1/push</c> and legacy <c>/api/prom/push</c>.</summary>
internal static class PushEndpoints
{
    public static void MapPushEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var gate = endpoints.ServiceProvider.GetRequiredService<PushGate>();
        endpoints.MapPost("/loki/api/v1/push", (HttpContext context) => PushAsync(context, gate, PushEndpoint.V1));
        endpoints.MapPost("/api/prom/push", (HttpContext context) => PushAsync(context, gate, PushEndpoint.Legacy));
    }

    private static async Task PushAsync(HttpContext context, PushGate gate, PushEndpoint endpoint)
    {
        if (!gate.Ready)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, PushGate.NotReadyMessage).ConfigureAwait(false);
            return;
        }

        var tenant = gate.TenantOf(context.Request, out var tenantError);
        if (tenant is null)
        {
            await PlainText.WriteAsync(context, tenantError.Status, tenantError.Message).ConfigureAwait(false);
            return;
        }

        var request = context.Request;
        var outcome = await gate.Pipeline.PushAsync(tenant,
            new PushBody(endpoint, request.Body, request.ContentLength, request.ContentType, request.Headers.ContentEncoding.ToString()),
            context.RequestAborted).ConfigureAwait(false);
        if (outcome.StatusCode == StatusCodes.Status204NoContent)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        await PlainText.WriteAsync(context, outcome.StatusCode, outcome.Message).ConfigureAwait(false);
    }
}
