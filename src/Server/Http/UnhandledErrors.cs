namespace LokiSharp.Server.Http;

/// <summary>
/// The last line of defence for a route: an exception no room turned into a status (a disk that filled up
/// under a delete request, an I/O error while reading) answers 500 with its message as Loki does, is logged, and
/// leaves the process and every other request alone.
/// </summary>
internal sealed partial class UnhandledErrors(ILogger<UnhandledErrors> logger)
{
    /// <summary>The middleware; place it inside the request metrics so they count the 500.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            LogUnhandled(context.Request.Method, context.Request.Path.Value ?? "", e.Message, e);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await PlainText.WriteAsync(context, StatusCodes.Status500InternalServerError, e.Message).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "request failed")]
    private partial void LogUnhandled(string method, string path, string err, Exception exception);
}
