namespace LokiSharp.Compactor.Deletion;

/// <summary>A delete API request Loki would refuse; the message is Loki's text, sent as plain text with the status.</summary>
public sealed class DeleteRequestException : Exception
{
    public DeleteRequestException(string message, int statusCode = 400)
        : base(message) => StatusCode = statusCode;

    /// <summary>HTTP status.</summary>
    public int StatusCode { get; }
}
