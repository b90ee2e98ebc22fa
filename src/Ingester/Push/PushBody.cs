namespace LokiSharp.Ingester.Push;

/// <summary>A push body and its headers, as a transport hands them to the <see cref="PushPipeline"/>.</summary>
/// <param name="Endpoint">Where it arrived, which chooses the decoder.</param>
/// <param name="Content">The body as it comes off the wire; read once, up to the size limit plus one byte.</param>
/// <param name="Length">The declared length (<c>Content-Length</c>), when there is one: a larger one is refused unread.</param>
/// <param name="ContentType">The <c>Content-Type</c> header.</param>
/// <param name="ContentEncoding">The <c>Content-Encoding</c> header.</param>
public readonly record struct PushBody(PushEndpoint Endpoint, Stream Content, long? Length, string? ContentType, string? ContentEncoding);
