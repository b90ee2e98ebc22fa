using LokiSharp.Storage.Objects;
using LokiSharp.Storage.Tests.Objects;

namespace LokiSharp.IntegrationTests.ObjectStorage;

/// <summary>A RADOS Gateway with one bucket that every test of a class writes into, under its own prefix.</summary>
public sealed class GatewayBucket : IAsyncLifetime
{
    /// <summary>The gateway the bucket lives on.</summary>
    public RadosGateway Gateway { get; } = new();

    /// <summary>The bucket's name.</summary>
    public string Bucket { get; } = "contract-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Starts the gateway and creates the bucket.</summary>
    public async Task InitializeAsync()
    {
        await Gateway.InitializeAsync();
        await Gateway.CreateBucketAsync(Bucket);
    }

    /// <summary>Stops the gateway.</summary>
    public Task DisposeAsync() => Gateway.DisposeAsync();

    /// <summary>Options for <see cref="S3ObjectStore"/> on this bucket, as a Loki config would give them.</summary>
    public S3ObjectStoreOptions Options => new()
    {
        Endpoint = Gateway.Endpoint,
        BucketName = Bucket,
        AccessKeyId = Gateway.AccessKey,
        SecretAccessKey = Gateway.SecretKey,
        ForcePathStyle = true,
        Insecure = true,
    };
}

/// <summary>
/// The object store contract against a real S3 server with the defaults: aws-chunked payload signing, no
/// conditional writes, and pages small enough that listing follows continuation tokens.
/// </summary>
public sealed class S3ObjectStoreTests(GatewayBucket bucket) : ObjectStoreContract, IClassFixture<GatewayBucket>
{
    protected override int ManyKeys => 25;

    protected override IObjectStore CreateStore() => new S3ObjectStore(bucket.Options with { ListPageSize = 7 });

    [Fact]
    public async Task Conditional_writes_are_detected_where_the_server_honours_them_and_the_probe_is_removed()
    {
        using var store = new S3ObjectStore(bucket.Options);
        Assert.False(store.SupportsCreateOnly);

        Assert.True(await store.DetectConditionalWritesAsync(Prefix + "probe"));

        Assert.True(store.SupportsCreateOnly);
        Assert.Null(await store.HeadAsync(Prefix + "probe"));
        Assert.True(await store.TryCreateAsync(Prefix + "once", new byte[] { 1 }));
        Assert.False(await store.TryCreateAsync(Prefix + "once", new byte[] { 2 }));
        Assert.Equal([1], await store.GetAsync(Prefix + "once"));
    }
}

/// <summary>
/// The same contract with the other switches: the payload signed whole (no aws-chunked encoding) and
/// create-only puts through <c>If-None-Match: *</c>, which RGW 16 honours.
/// </summary>
public sealed class S3ConditionalObjectStoreTests(GatewayBucket bucket) : ObjectStoreContract, IClassFixture<GatewayBucket>
{
    protected override IObjectStore CreateStore() =>
        new S3ObjectStore(bucket.Options with { ChunkedPayloadSigning = false, ConditionalWrites = true });
}
