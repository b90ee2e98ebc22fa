using System.IO.Compression;
using Google.Protobuf;
using LokiSharp.Ingester.Otlp.Protos;
using LokiSharp.Ingester.Push;

namespace LokiSharp.Ingester.Otlp;

/// <summary>
/// Decodes an OTLP/HTTP logs body (<c>POST /otlp/v1/logs</c>) into a push batch with Loki's rules and error
/// texts: <c>Content-Encoding</c> none, gzip or zstd; <c>Content-Type</c> exactly
/// <c>application/x-protobuf</c> or <c>application/json</c>.
/// </summary>
public static class OtlpLogsDecoder
{
    /// <summary>The OTLP/HTTP binary protobuf content type.</summary>
    public const string ProtobufContentType = "application/x-protobuf";

    /// <summary>The OTLP/JSON content type.</summary>
    public const string JsonContentType = "application/json";

    /// <summary>Decodes and maps a complete body. The caller disposes the returned batch.</summary>
    /// <exception cref="PushRequestException">Loki's 400 and 413 answers.</exception>
    public static PushBatch Decode(ReadOnlyMemory<byte> body, string? contentType, string? contentEncoding, OtlpMapping mapping, long nowNs,
        long maxDecompressedSize = PushBodyDecoder.DefaultMaxDecompressedSize)
    {
        var request = Parse(body, contentType, contentEncoding, maxDecompressedSize);
        return OtlpLogsMapper.ToBatch(request, mapping, nowNs);
    }

    /// <summary>Decompresses and parses a body into the export request, without mapping it.</summary>
    /// <exception cref="PushRequestException">Loki's 400 and 413 answers.</exception>
    public static ExportLogsServiceRequest Parse(ReadOnlyMemory<byte> body, string? contentType, string? contentEncoding,
        long maxDecompressedSize = PushBodyDecoder.DefaultMaxDecompressedSize)
    {
        byte[]? inflated = null;
        try
        {
            var payload = body.Span;
            switch (contentEncoding ?? "")
            {
                case "":
                    break;
                case "gzip":
                    if (body.Length < 2 || body.Span[0] != 0x1f || body.Span[1] != 0x8b)
                    {
                        throw new PushRequestException(400, "gzip: invalid header");
                    }

                    inflated = Inflate(body, static s => new GZipStream(s, CompressionMode.Decompress), "gzip", maxDecompressedSize, out var gzipLength);
                    payload = inflated.AsSpan(0, gzipLength);
                    break;
                case "zstd":
                    inflated = Inflate(body, static s => new ZstdSharp.DecompressionStream(s), "zstd", maxDecompressedSize, out var zstdLength);
                    payload = inflated.AsSpan(0, zstdLength);
                    break;
                default:
                    // lz4 is named because Loki names it, but its frame format is not decoded here.
                    throw new PushRequestException(400, $"unsupported content encoding {contentEncoding}: only gzip, lz4 and zstd are supported");
            }

            // Loki compares the header as a whole: parameters such as "; charset=utf-8" are not accepted.
            return contentType switch
            {
                ProtobufContentType => ParseProtobuf(payload),
                JsonContentType => ParseJson(payload),
                _ => throw new PushRequestException(400, $"content type: {contentType} is not supported"),
            };
        }
        finally
        {
            if (inflated is not null)
            {
                PushBuffers.Pool.Return(inflated);
            }
        }
    }

    private static ExportLogsServiceRequest ParseProtobuf(ReadOnlySpan<byte> payload)
    {
        try
        {
            return ExportLogsServiceRequest.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new PushRequestException(400, "proto: " + e.Message, e);
        }
    }

    private static ExportLogsServiceRequest ParseJson(ReadOnlySpan<byte> payload)
    {
        try
        {
            return OtlpJsonReader.Read(payload);
        }
        catch (FormatException e)
        {
            throw new PushRequestException(400, "json: " + e.Message, e);
        }
    }

    // Decompresses into a pooled buffer, failing with Loki's 413 text once the output passes the limit.
    private static byte[] Inflate(ReadOnlyMemory<byte> compressed, Func<Stream, Stream> decompressor, string codec, long maxDecompressedSize, out int length)
    {
        try
        {
            using var source = BoundedDecompression.Source(compressed);
            using var stream = decompressor(source);
            return BoundedDecompression.ReadAll(stream, compressed.Length, maxDecompressedSize, out length);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ZstdSharp.ZstdException)
        {
            throw new PushRequestException(400, $"{codec}: {e.Message}", e);
        }
    }
}
