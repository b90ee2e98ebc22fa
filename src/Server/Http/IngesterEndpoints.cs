namespace LokiSharp.Server.Http;

/// <summary>The ingester's endpoints: <c>/flush</c> and <c>/ingester/shutdown</c>.</summary>
internal static class IngesterEndpoints
{
    public static void MapIngesterEndpoints(this IEndpointRouteBuilder endpoints)
    {
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
}
