namespace LokiSharp.Ingester.Push;

/// <summary>A push that is rejected as a whole; the message and status are what Loki answers.</summary>
public sealed class PushRequestException : Exception
{
    public PushRequestException(int statusCode, string message)
        : base(message) => StatusCode = statusCode;

    public PushRequestException(int statusCode, string message, Exception inner)
        : base(message, inner) => StatusCode = statusCode;

    /// <summary>HTTP status: 400, 413, 415, 422, 429...</summary>
    public int StatusCode { get; }
}
