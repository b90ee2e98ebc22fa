using System.Net;
using System.Runtime.CompilerServices;
using Amazon.S3;
using Amazon.S3.Model;

namespace LokiSharp.Storage.Objects;

/// <summary>
/// Objects in one S3 (or S3-compatible: Ceph RGW, MinIO) bucket through AWSSDK.S3. The SDK retries throttling
/// and server errors itself (<see cref="S3ObjectStoreOptions.MaxRetries"/>); what still fails is translated into
/// an <see cref="ObjectStoreException"/> whose kind says whether to retry later or fix the configuration.
/// </summary>
public sealed partial class S3ObjectStore : IObjectStore
{
    private readonly IAmazonS3 _client;
    private readonly S3ObjectStoreOptions _options;
    private volatile bool _conditionalWrites;

    /// <summary>Creates the client; nothing is sent until the first operation.</summary>
    public S3ObjectStore(S3ObjectStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        var config = options.ToClientConfig();
        var credentials = options.ToCredentials();
        _client = credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
        _conditionalWrites = options.ConditionalWrites;
    }

    /// <summary>The options the store was made with.</summary>
    public S3ObjectStoreOptions Options => _options;

    /// <inheritdoc />
    public bool SupportsCreateOnly => _conditionalWrites;

    /// <summary>
    /// Finds out whether the server honours <c>If-None-Match: *</c> on PUT (AWS since 2024, Ceph RGW, MinIO) unless
    /// <see cref="S3ObjectStoreOptions.ConditionalWrites"/> already says so: creates <paramref name="probeKey"/> twice
    /// with the header, and the second must be refused (412); then deletes it. Afterwards
    /// <see cref="SupportsCreateOnly"/> is the answer, so writers use create-only puts exactly where the server supports
    /// them. A server that rejects or ignores the header is no error; a bucket that cannot be written is.
    /// </summary>
    public async Task<bool> DetectConditionalWritesAsync(string probeKey, CancellationToken cancellationToken = default)
    {
        if (_conditionalWrites)
        {
            return true;
        }

        ObjectKey.Validate(probeKey);
        bool supported;
        try
        {
            supported = await PutCoreAsync(probeKey, "probe"u8.ToArray(), ifNoneMatch: true, cancellationToken).ConfigureAwait(false)
                && !await PutCoreAsync(probeKey, "probe"u8.ToArray(), ifNoneMatch: true, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.Permanent
            || e.InnerException is Amazon.Runtime.AmazonServiceException { ErrorCode: "NotImplemented" })
        {
            // 400/501: the server does not take the header at all.
            supported = false;
        }

        await DeleteAsync(probeKey, cancellationToken).ConfigureAwait(false);
        _conditionalWrites = supported;
        return supported;
    }

    /// <inheritdoc />
    public Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        return PutCoreAsync(key, content, ifNoneMatch: false, cancellationToken);
    }

    /// <inheritdoc />
    public async Task PutAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        ArgumentNullException.ThrowIfNull(content);

        // The SDK needs the length up front and a stream it can rewind for signing and retries.
        using var buffer = content.CanSeek ? new MemoryStream(checked((int)(content.Length - content.Position))) : new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        await PutCoreAsync(key, buffer.GetBuffer().AsMemory(0, (int)buffer.Length), ifNoneMatch: false, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        if (!_conditionalWrites)
        {
            throw new NotSupportedException("create-only puts need conditional writes (If-None-Match), which are turned off for this bucket");
        }

        return PutCoreAsync(key, content, ifNoneMatch: true, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        try
        {
            using var response = await _client.GetObjectAsync(
                new GetObjectRequest { BucketName = _options.BucketName, Key = key }, cancellationToken).ConfigureAwait(false);
            var length = response.Headers.ContentLength;
            using var buffer = length >= 0 ? new MemoryStream(checked((int)length)) : new MemoryStream();
            await response.ResponseStream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
        catch (Exception e) when (IsTranslatable(e, cancellationToken))
        {
            throw Translate(e, "get", key);
        }
    }

    /// <inheritdoc />
    public async Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (destination.IsEmpty)
        {
            // HTTP cannot express an empty range; still answer "not found" like a real read would.
            return await HeadAsync(key, cancellationToken).ConfigureAwait(false) is null ? throw ObjectStoreException.NotFound(key) : 0;
        }

        try
        {
            var request = new GetObjectRequest
            {
                BucketName = _options.BucketName,
                Key = key,
                ByteRange = new ByteRange(offset, offset + destination.Length - 1),
            };
            using var response = await _client.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
            var total = 0;
            while (total < destination.Length)
            {
                var read = await response.ResponseStream.ReadAsync(destination[total..], cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return total;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The range starts at or after the end of the object.
            return 0;
        }
        catch (Exception e) when (IsTranslatable(e, cancellationToken))
        {
            throw Translate(e, "ranged get", key);
        }
    }

    /// <inheritdoc />
    public async Task<long?> HeadAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        try
        {
            var response = await _client.GetObjectMetadataAsync(
                new GetObjectMetadataRequest { BucketName = _options.BucketName, Key = key }, cancellationToken).ConfigureAwait(false);
            return response.Headers.ContentLength;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket")
        {
            return null;
        }
        catch (Exception e) when (IsTranslatable(e, cancellationToken))
        {
            throw Translate(e, "head", key);
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        await foreach (var page in ListPagesAsync(prefix, delimiter: null, cancellationToken).ConfigureAwait(false))
        {
            foreach (var entry in page.S3Objects ?? [])
            {
                yield return new ObjectInfo(entry.Key, entry.Size ?? 0);
            }
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListPrefixesAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectKey.CheckDirectoryPrefix(prefix);
        await foreach (var page in ListPagesAsync(prefix, "/", cancellationToken).ConfigureAwait(false))
        {
            foreach (var common in page.CommonPrefixes ?? [])
            {
                yield return common;
            }
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        try
        {
            // S3 answers 204 whether or not the key existed.
            await _client.DeleteObjectAsync(
                new DeleteObjectRequest { BucketName = _options.BucketName, Key = key }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket")
        {
        }
        catch (Exception e) when (IsTranslatable(e, cancellationToken))
        {
            throw Translate(e, "delete", key);
        }
    }

    /// <summary>Releases the SDK client and its connections.</summary>
    public void Dispose() => _client.Dispose();

    // ListObjectsV2 page by page (continuation tokens), as the caller enumerates.
    private async IAsyncEnumerable<ListObjectsV2Response> ListPagesAsync(string prefix, string? delimiter,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? continuation = null;
        do
        {
            var request = new ListObjectsV2Request
            {
                BucketName = _options.BucketName,
                Prefix = prefix.Length == 0 ? null : prefix,
                Delimiter = delimiter,
                MaxKeys = _options.ListPageSize,
                ContinuationToken = continuation,
            };
            ListObjectsV2Response response;
            try
            {
                response = await _client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTranslatable(e, cancellationToken))
            {
                throw Translate(e, "list", null);
            }

            yield return response;
            continuation = response.IsTruncated == true ? response.NextContinuationToken : null;
        }
        while (!string.IsNullOrEmpty(continuation));
    }

    private async Task<bool> PutCoreAsync(string key, ReadOnlyMemory<byte> content, bool ifNoneMatch, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest
        {
            BucketName = _options.BucketName,
            Key = key,
            InputStream = AsStream(content),
            AutoCloseStream = true,
            AutoResetStreamPosition = true,
            UseChunkEncoding = _options.ChunkedPayloadSigning,
            ContentType = "application/octet-stream",
        };
        if (ifNoneMatch)
        {
            request.IfNoneMatch = "*";
        }

        try
        {
            await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception e) when (ifNoneMatch && e.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            return false;
        }
        catch (Exception e) when (IsTranslatable(e, cancellationToken))
        {
            throw Translate(e, ifNoneMatch ? "create-only put" : "put", key);
        }
    }

    // Wraps the caller's bytes without copying when they are an array segment.
    private static MemoryStream AsStream(ReadOnlyMemory<byte> content) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(content, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);
}
