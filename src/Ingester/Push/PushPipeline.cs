using System.Buffers;
using LokiSharp.Ingester.Limits;
using LokiSharp.Ingester.Otlp;

namespace LokiSharp.Ingester.Push;

/// <summary>
/// One push, whatever carried it (Loki's HTTP push, OTLP/HTTP, gRPC): the body read up to the wire limit,
/// decompressed within its own limit and decoded for the endpoint and content type, then written to the
/// ingester, with every refusal turned into Loki's status and text. A transport only hands the request over
/// (after the host has checked readiness and the tenant) and writes the <see cref="PushOutcome"/> in its own form.
/// </summary>
public sealed class PushPipeline(StreamIngester ingester, ITenantLimits limits, PushSizeLimits sizeLimits, TimeProvider time)
{
    /// <summary>Reads, decodes and pushes one push body of <paramref name="tenant"/>.</summary>
    /// <returns>204, or Loki's status and text: 413 for a body over a limit, the decoder's 4xx, the ingester's answer.</returns>
    /// <remarks>Failures of the transport itself (the client going away mid-body) are not outcomes: they propagate.</remarks>
    public async Task<PushOutcome> PushAsync(string tenant, PushBody body, CancellationToken cancellationToken)
    {
        var maxBodySize = sizeLimits.MaxBodySize;
        if (body.Length > maxBodySize)
        {
            return Refused(PushBodyDecoder.TooLarge(body.Length.Value, maxBodySize));
        }

        var (buffer, length) = await ReadAsync(body.Content, body.Length, maxBodySize, cancellationToken).ConfigureAwait(false);
        PushBatch batch;
        try
        {
            if (length > maxBodySize)
            {
                return Refused(PushBodyDecoder.TooLarge(length, maxBodySize));
            }

            batch = Decode(tenant, body, buffer.AsMemory(0, length));
        }
        catch (PushRequestException e)
        {
            return Refused(e);
        }
        finally
        {
            // Every decoder copies what it keeps into the batch: the body goes back to the pool before the WAL wait,
            // so a push holds two large buffers at a time, not three.
            PushBuffers.Pool.Return(buffer);
        }

        using (batch)
        {
            return await PushAsync(tenant, batch, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Pushes a batch the transport has decoded already (gRPC decodes while receiving); the caller disposes it.</summary>
    public async Task<PushOutcome> PushAsync(string tenant, PushBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            return await ingester.PushAsync(tenant, batch, cancellationToken).ConfigureAwait(false);
        }
        catch (PushRequestException e)
        {
            return Refused(e);
        }
    }

    /// <summary>
    /// Decodes a <c>logproto.PushRequest</c> as gRPC carries it: plain protobuf, no snappy, possibly in several
    /// segments. The caller disposes the returned batch.
    /// </summary>
    /// <exception cref="PushRequestException">The bytes are not a valid PushRequest (400).</exception>
    public static PushBatch DecodeMessage(in ReadOnlySequence<byte> message)
    {
        var batch = new PushBatch((int)Math.Min(message.Length, int.MaxValue));
        try
        {
            if (message.IsSingleSegment)
            {
                ProtobufPushDecoder.Decode(message.FirstSpan, batch);
            }
            else
            {
                ProtobufPushDecoder.Decode(message.ToArray(), batch);
            }

            return batch;
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }

    private PushBatch Decode(string tenant, in PushBody body, ReadOnlyMemory<byte> bytes)
    {
        if (body.Endpoint != PushEndpoint.Otlp)
        {
            return PushBodyDecoder.Decode(bytes, body.ContentType, body.ContentEncoding, body.Endpoint, sizeLimits.MaxDecompressedSize);
        }

        // OTLP attributes become labels by the tenant's own mapping; entries without a time get the receive time.
        var tenantLimits = limits.For(tenant);
        var mapping = tenantLimits.Otlp with { DiscoverServiceName = tenantLimits.DiscoverServiceName };
        var now = time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000;
        return OtlpLogsDecoder.Decode(bytes, body.ContentType, body.ContentEncoding, mapping, now, sizeLimits.MaxDecompressedSize);
    }

    private static PushOutcome Refused(PushRequestException e) => new(e.StatusCode, e.Message);

    // Reads the whole body into a buffer from the push pool, stopping just past the size limit.
    private static async Task<(byte[] Buffer, int Length)> ReadAsync(Stream content, long? contentLength, long maxBodySize, CancellationToken cancellationToken)
    {
        // One byte past the limit tells a body that is too large; an array cannot be longer anyway.
        var capacity = (int)Math.Min(maxBodySize + 1, Array.MaxLength);
        var buffer = PushBuffers.Pool.Rent((int)Math.Min(Math.Max(contentLength ?? 64 * 1024, 1024), capacity));
        var length = 0;
        try
        {
            while (true)
            {
                // The pool may hand out more than asked: reads never go past the capacity.
                var room = Math.Min(buffer.Length, capacity);
                if (length == room)
                {
                    if (room == capacity)
                    {
                        return (buffer, length);
                    }

                    var bigger = PushBuffers.Pool.Rent((int)Math.Min((long)buffer.Length * 2, capacity));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    PushBuffers.Pool.Return(buffer);
                    buffer = bigger;
                    continue;
                }

                var read = await content.ReadAsync(buffer.AsMemory(length, room - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return (buffer, length);
                }

                length += read;
            }
        }
        catch
        {
            PushBuffers.Pool.Return(buffer);
            throw;
        }
    }
}
