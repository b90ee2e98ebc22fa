namespace LokiSharp.Querier.Requests;

/// <summary>A query request Loki would refuse; the message is Loki's text, sent as plain text with the status.</summary>
public sealed class QueryRequestException : Exception
{
    public QueryRequestException(string message, int statusCode = 400)
        : base(message) => StatusCode = statusCode;

    public QueryRequestException(string message, Exception inner, int statusCode = 400)
        : base(message, inner) => StatusCode = statusCode;

    /// <summary>HTTP status.</summary>
    public int StatusCode { get; }
}
