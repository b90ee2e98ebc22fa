namespace LokiSharp.Server.Http;

/// <summary>Loki's plain-text responses (Go's <c>http.Error</c>): text/plain, nosniff, the message and a newline.</summary>
internal static class PlainText
{
    /// <summary>Writes <paramref name="message"/> with <paramref name="status"/> as Go's http.Error does.</summary>
    public static Task WriteAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        return context.Response.WriteAsync(message.EndsWith('\n') ? message : message + "\n");
    }

    /// <summary>The same, as an endpoint result.</summary>
    public static IResult Result(int status, string message) => new PlainTextResult(status, message);

    private sealed class PlainTextResult(int status, string message) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext, status, message);
    }
}
