using System.IO.Compression;
using LokiSharp.Storage.Codecs;

namespace LokiSharp.Ingester.Push;

/// <summary>
/// Turns a push request body into a <see cref="PushBatch"/> as Loki does: strip <c>Content-Encoding</c> (none,
/// snappy as a no-op, gzip, deflate), then JSON for <c>application/json</c> and snappy-block protobuf for any
/// other media type. Size limits give Loki's 413 texts; the decompressed size is bounded while inflating.
/// </summary>
public static class PushBodyDecoder
{
    /// <summary>Loki's <c>distributor.max_recv_msg_size</c> default: 100 MiB on the wire.</summary>
    public const long DefaultMaxCompressedSize = 100L << 20;

    /// <summary>
    /// The bound on a decompressed body unless configured otherwise: the same as on the wire, so that memory per
    /// push follows one setting (Loki's own default, 5000 MiB, lets a 100 MiB gzip bomb inflate to 5 GB).
    /// </summary>
    public const long DefaultMaxDecompressedSize = DefaultMaxCompressedSize;

    // Bytes one compressed byte can stand for at most: a 3-byte copy element yields 64 bytes.
    private const long MaxSnappyExpansion = 22;

    /// <summary>Decodes a complete body. The caller disposes the returned batch.</summary>
    /// <exception cref="PushRequestException">Loki's 400/413/415 answers.</exception>
    public static PushBatch Decode(ReadOnlyMemory<byte> body, string? contentType, string? contentEncoding, PushEndpoint endpoint,
        long maxDecompressedSize = DefaultMaxDecompressedSize)
    {
        var mediaType = MediaType(contentType);
        byte[]? inflated = null;
        try
        {
            var payload = body.Span;
            switch (contentEncoding?.Trim().ToLowerInvariant())
            {
                case null or "" or "snappy" or "identity":
                    break;
                case "gzip":
                    inflated = Inflate(body, static s => new GZipStream(s, CompressionMode.Decompress), maxDecompressedSize, out var gzipLength);
                    payload = inflated.AsSpan(0, gzipLength);
                    break;
                case "deflate":
                    inflated = Inflate(body, static s => new ZLibStream(s, CompressionMode.Decompress), maxDecompressedSize, out var deflateLength);
                    payload = inflated.AsSpan(0, deflateLength);
                    break;
                default:
                    throw new PushRequestException(400, $"Content-Encoding \"{contentEncoding}\" not supported");
            }

            return mediaType == "application/json" ? DecodeJson(payload, endpoint) : DecodeProtobuf(payload, maxDecompressedSize);
        }
        finally
        {
            if (inflated is not null)
            {
                PushBuffers.Pool.Return(inflated);
            }
        }
    }

    /// <summary>The 413 Loki answers when the body on the wire exceeds the limit.</summary>
    public static PushRequestException TooLarge(long size, long max) =>
        new(413, $"request body too large: message size too large than max ({size} vs {max})");

    private static PushBatch DecodeJson(ReadOnlySpan<byte> json, PushEndpoint endpoint)
    {
        var batch = new PushBatch(json.Length);
        try
        {
            if (endpoint == PushEndpoint.Legacy)
            {
                JsonPushDecoder.DecodeLegacy(json, batch);
            }
            else
            {
                JsonPushDecoder.Decode(json, batch);
            }

            return batch;
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }

    private static PushBatch DecodeProtobuf(ReadOnlySpan<byte> compressed, long maxDecompressedSize)
    {
        // The block declares its decoded length up front: check it before allocating anything that size.
        var declared = SnappyDecodedLength(compressed);
        if (declared > maxDecompressedSize || declared > Array.MaxLength)
        {
            throw BoundedDecompression.DecompressedTooLarge(declared, maxDecompressedSize);
        }

        // No snappy element expands more than 64 bytes from 3, so a larger claim is corrupt: refuse it unallocated.
        if (declared > MaxSnappyExpansion * compressed.Length)
        {
            throw new PushRequestException(400, "snappy: corrupt input");
        }

        // The message is decompressed into the batch's own arena, so its lines are referenced there, never copied.
        var batch = PushBatch.ForMessage((int)declared);
        try
        {
            // The chunk codec decompresses straight into the arena (Snappier's span overload would decompress into a
            // pooled buffer, copy it out and clear it), and refuses a block that does not fill it exactly.
            try
            {
                BlockCodec.For(ChunkEncoding.Snappy).Decompress(compressed, batch.Message);
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException)
            {
                throw new PushRequestException(400, "snappy: corrupt input");
            }

            ProtobufPushDecoder.Decode(batch.Message, batch);
            return batch;
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }

    // The snappy block preamble: the decoded length as a little-endian base-128 varint of at most 32 bits.
    private static long SnappyDecodedLength(ReadOnlySpan<byte> block)
    {
        ulong length = 0;
        for (var i = 0; i < block.Length && i < 5; i++)
        {
            length |= (ulong)(block[i] & 0x7f) << (7 * i);
            if (block[i] < 0x80)
            {
                return length <= uint.MaxValue ? (long)length : throw new PushRequestException(400, "snappy: corrupt input");
            }
        }

        throw new PushRequestException(400, "snappy: corrupt input");
    }

    // Loki parses Content-Type with Go's mime.ParseMediaType: parameters are allowed, a missing type is an error.
    private static string MediaType(string? contentType)
    {
        var value = contentType?.Trim() ?? "";
        var semicolon = value.IndexOf(';', StringComparison.Ordinal);
        var media = (semicolon >= 0 ? value[..semicolon] : value).Trim().ToLowerInvariant();
        if (media.Length == 0)
        {
            throw new PushRequestException(400, "mime: no media type");
        }

        var slash = media.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == media.Length - 1)
        {
            throw new PushRequestException(400, "mime: expected slash after first token");
        }

        return media;
    }

    private static byte[] Inflate(ReadOnlyMemory<byte> body, Func<Stream, Stream> open, long maxSize, out int length)
    {
        try
        {
            using var input = BoundedDecompression.Source(body);
            using var inflater = open(input);
            return BoundedDecompression.ReadAll(inflater, body.Length, maxSize, out length);
        }
        catch (InvalidDataException e)
        {
            throw new PushRequestException(400, "failed to decompress request body: " + e.Message, e);
        }
    }
}
