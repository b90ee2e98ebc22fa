namespace LokiSharp.Ingester.Push;

/// <summary>How large a push body may be on the wire and once decompressed; both bound the memory a push takes.</summary>
/// <param name="MaxBodySize">Bytes on the wire (<c>distributor.max_recv_msg_size</c>).</param>
/// <param name="MaxDecompressedSize">Bytes after <c>Content-Encoding</c> is undone (<c>distributor.max_decompressed_size</c>).</param>
public sealed record PushSizeLimits(long MaxBodySize, long MaxDecompressedSize)
{
    /// <summary>The limits of an unconfigured server.</summary>
    public static PushSizeLimits Default { get; } = new(PushBodyDecoder.DefaultMaxCompressedSize, PushBodyDecoder.DefaultMaxDecompressedSize);
}
