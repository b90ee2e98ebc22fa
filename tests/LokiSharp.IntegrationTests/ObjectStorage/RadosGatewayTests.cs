using System.Net;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Xunit.Abstractions;

namespace LokiSharp.IntegrationTests.ObjectStorage;

/// <summary>
/// The S3 operations the object store needs, with AWSSDK.S3 against Ceph's RADOS Gateway 16, and the facts the S3
/// client's design rests on: RGW honours <c>If-None-Match: *</c> on PUT (also under a race), compares
/// <c>If-Match</c> against the unquoted ETag, accepts aws-chunked signed payloads but rejects the SDK's default
/// trailing checksums, and the SDK refuses unsigned payloads over http.
/// </summary>
public sealed class RadosGatewayTests(RadosGateway rgw, ITestOutputHelper output) : IClassFixture<RadosGateway>
{
    [Fact]
    public async Task PutThenGetReturnsTheBytes()
    {
        output.WriteLine($"the cluster started in {rgw.StartTime.TotalSeconds:0.0} s");
        var bucket = await NewBucketAsync();
        using var client = rgw.CreateClient();
        var bytes = RandomBytes(1 << 20); // more than one aws-chunked chunk

        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "chunks/1", InputStream = new MemoryStream(bytes) });

        Assert.Equal(bytes, await ReadAsync(client, new GetObjectRequest { BucketName = bucket, Key = "chunks/1" }));
        var head = await client.GetObjectMetadataAsync(bucket, "chunks/1");
        Assert.Equal(bytes.Length, head.ContentLength);
    }

    [Fact]
    public async Task RangedGetReturnsOnlyTheRange()
    {
        var bucket = await NewBucketAsync();
        using var client = rgw.CreateClient();
        var bytes = RandomBytes(10_000);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "pack", InputStream = new MemoryStream(bytes) });

        var middle = await ReadAsync(client, new GetObjectRequest { BucketName = bucket, Key = "pack", ByteRange = new ByteRange(1000, 1999) });
        Assert.Equal(bytes[1000..2000], middle);

        // A range past the end is cut to the object, as S3 does.
        var tail = await ReadAsync(client, new GetObjectRequest { BucketName = bucket, Key = "pack", ByteRange = new ByteRange(9990, 20_000) });
        Assert.Equal(bytes[9990..], tail);
    }

    [Fact]
    public async Task ListWithPrefixPagesThroughContinuationTokens()
    {
        var bucket = await NewBucketAsync();
        using var client = rgw.CreateClient();
        var wanted = Enumerable.Range(0, 7).Select(i => $"index/tenant-a/segment-{i:D3}").ToList();
        foreach (var key in wanted.Concat(["index/tenant-b/segment-000", "chunks/tenant-a/0"]))
        {
            await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = key });
        }

        var listed = new List<string>();
        var pages = 0;
        string? token = null;
        do
        {
            var page = await client.ListObjectsV2Async(new ListObjectsV2Request
            {
                BucketName = bucket,
                Prefix = "index/tenant-a/",
                MaxKeys = 3,
                ContinuationToken = token,
            });
            pages++;
            listed.AddRange(page.S3Objects.Select(o => o.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);

        Assert.Equal(wanted, listed);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task DeleteRemovesTheObject()
    {
        var bucket = await NewBucketAsync();
        using var client = rgw.CreateClient();
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "gone", ContentBody = "x" });

        await client.DeleteObjectAsync(bucket, "gone");

        // SDK 4 throws the modelled exception (a subclass of AmazonS3Exception) for S3's NoSuchKey.
        var missing = await Assert.ThrowsAsync<NoSuchKeyException>(() => client.GetObjectAsync(bucket, "gone"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("NoSuchKey", missing.ErrorCode);
        // Deleting what is not there succeeds, as S3 does: a retried delete is harmless.
        await client.DeleteObjectAsync(bucket, "gone");
    }

    [Fact]
    public async Task PutWithIfNoneMatchStarDoesNotOverwrite()
    {
        var bucket = await NewBucketAsync();
        using var client = rgw.CreateClient();

        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "lease", ContentBody = "first", IfNoneMatch = "*" });
        var second = await Assert.ThrowsAsync<AmazonS3Exception>(() =>
            client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "lease", ContentBody = "second", IfNoneMatch = "*" }));

        Assert.Equal(HttpStatusCode.PreconditionFailed, second.StatusCode);
        Assert.Equal("first", Encoding.UTF8.GetString(await ReadAsync(client, new GetObjectRequest { BucketName = bucket, Key = "lease" })));
    }

    [Fact]
    public async Task ConcurrentConditionalCreatesHaveOneWinner()
    {
        var bucket = await NewBucketAsync();
        using var client = rgw.CreateClient();

        for (var round = 0; round < 5; round++)
        {
            var key = $"epoch/{round}";
            var attempts = Enumerable.Range(0, 8).Select(async writer =>
            {
                try
                {
                    await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = $"writer-{writer}", IfNoneMatch = "*" });
                    return writer;
                }
                catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
                {
                    return -1;
                }
            });

            var winners = (await Task.WhenAll(attempts)).Where(writer => writer >= 0).ToList();

            var winner = Assert.Single(winners);
            Assert.Equal($"writer-{winner}", Encoding.UTF8.GetString(await ReadAsync(client, new GetObjectRequest { BucketName = bucket, Key = key })));
        }
    }

    [Fact]
    public async Task IfMatchOnPutComparesTheUnquotedETag()
    {
        var bucket = await NewBucketAsync();
        using var client = rgw.CreateClient();
        var put = await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "state", ContentBody = "v1" });
        Assert.StartsWith("\"", put.ETag, StringComparison.Ordinal);

        // RGW 16 compares the header with the ETag without its quotes: the quoted ETag S3 hands out never matches.
        var quoted = await Assert.ThrowsAsync<AmazonS3Exception>(() =>
            client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "state", ContentBody = "v2", IfMatch = put.ETag }));
        Assert.Equal(HttpStatusCode.PreconditionFailed, quoted.StatusCode);

        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "state", ContentBody = "v2", IfMatch = put.ETag.Trim('"') });
        Assert.Equal("v2", Encoding.UTF8.GetString(await ReadAsync(client, new GetObjectRequest { BucketName = bucket, Key = "state" })));
    }

    [Theory]
    [InlineData(true)] // aws-chunked, STREAMING-AWS4-HMAC-SHA256-PAYLOAD
    [InlineData(false)] // one signed SHA-256 of the whole payload
    public async Task SignedPayloadsAreAcceptedChunkedOrNot(bool chunked)
    {
        var bucket = await NewBucketAsync();
        using var client = rgw.CreateClient();
        var bytes = RandomBytes(300_000);

        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "obj", InputStream = new MemoryStream(bytes), UseChunkEncoding = chunked });

        Assert.Equal(bytes, await ReadAsync(client, new GetObjectRequest { BucketName = bucket, Key = "obj" }));
    }

    [Fact]
    public async Task TheSdkDefaultTrailingChecksumIsRejectedUnlessChunkingIsOff()
    {
        var bucket = await NewBucketAsync();
        // The SDK's default since 2025: a CRC32 sent as an aws-chunked trailer (STREAMING-...-PAYLOAD-TRAILER),
        // which RGW 16 does not understand.
        using var client = rgw.CreateClient(config =>
        {
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_SUPPORTED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_SUPPORTED;
        });

        var rejected = await Assert.ThrowsAsync<AmazonS3Exception>(() =>
            client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "trailer", ContentBody = "x" }));
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        Assert.Equal("XAmzContentSHA256Mismatch", rejected.ErrorCode);

        // Without chunking the checksum travels as a header, which RGW ignores.
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "header", ContentBody = "x", UseChunkEncoding = false });
        Assert.Equal("x", Encoding.UTF8.GetString(await ReadAsync(client, new GetObjectRequest { BucketName = bucket, Key = "header" })));
    }

    [Fact]
    public async Task TheSdkRefusesUnsignedPayloadsOverHttp()
    {
        var bucket = await NewBucketAsync();
        using var client = rgw.CreateClient();

        var refused = await Assert.ThrowsAsync<AmazonClientException>(() =>
            client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "unsigned", ContentBody = "x", DisablePayloadSigning = true }));

        Assert.Contains("HTTPS", refused.Message, StringComparison.Ordinal);
    }

    private async Task<string> NewBucketAsync()
    {
        var name = "t-" + Guid.NewGuid().ToString("N")[..16];
        await rgw.CreateBucketAsync(name);
        return name;
    }

    private static async Task<byte[]> ReadAsync(AmazonS3Client client, GetObjectRequest request)
    {
        using var response = await client.GetObjectAsync(request);
        using var bytes = new MemoryStream();
        await response.ResponseStream.CopyToAsync(bytes);
        return bytes.ToArray();
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
