using Amazon;
using Amazon.Runtime;
using LokiSharp.Storage.Objects;

namespace LokiSharp.Storage.Tests.Objects;

public sealed class S3ObjectStoreOptionsTests
{
    private static readonly S3ObjectStoreOptions Rgw = new()
    {
        Endpoint = "127.0.0.1:7480",
        BucketName = "loki",
        AccessKeyId = "key",
        SecretAccessKey = "secret",
        ForcePathStyle = true,
        Insecure = true,
    };

    [Fact]
    public void AnInsecureEndpointIsPlainHttpWithPathStyleAndTheDefaultSigningRegion()
    {
        var config = Rgw.ToClientConfig();
        Assert.Equal("http://127.0.0.1:7480/", config.ServiceURL);
        Assert.True(config.ForcePathStyle);
        Assert.True(config.UseHttp);
        Assert.Equal(S3ObjectStoreOptions.DefaultRegion, config.AuthenticationRegion);
        Assert.Equal(5, config.MaxErrorRetry);
    }

    [Fact]
    public void AnEndpointIsHttpsUnlessInsecureAndMayBeAFullUrl()
    {
        Assert.Equal("https://s3.example.com/", (Rgw with { Insecure = false, Endpoint = "s3.example.com" }).ToClientConfig().ServiceURL);
        Assert.Equal("http://minio:9000/", (Rgw with { Insecure = false, Endpoint = "http://minio:9000" }).ToClientConfig().ServiceURL);
        Assert.Equal("eu-west-3", (Rgw with { Region = "eu-west-3" }).ToClientConfig().AuthenticationRegion);
    }

    [Fact]
    public void WithoutAnEndpointTheRegionPicksTheAwsEndpoint()
    {
        var config = new S3ObjectStoreOptions { BucketName = "logs", Region = "eu-central-1" }.ToClientConfig();
        Assert.Equal(RegionEndpoint.EUCentral1, config.RegionEndpoint);
        Assert.Null(config.ServiceURL);
        Assert.False(config.ForcePathStyle);
    }

    [Fact]
    public void TimeoutsRetriesAndChecksumsAreApplied()
    {
        var config = (Rgw with { ResponseHeaderTimeout = TimeSpan.FromSeconds(7), MaxRetries = 2 }).ToClientConfig();
        Assert.Equal(TimeSpan.FromSeconds(7), config.Timeout);
        Assert.Equal(2, config.MaxErrorRetry);
        Assert.Equal(RequestChecksumCalculation.WHEN_REQUIRED, config.RequestChecksumCalculation);
        Assert.Equal(ResponseChecksumValidation.WHEN_REQUIRED, config.ResponseChecksumValidation);

        config = (Rgw with { FlexibleChecksums = true }).ToClientConfig();
        Assert.Equal(RequestChecksumCalculation.WHEN_SUPPORTED, config.RequestChecksumCalculation);
        Assert.Equal(ResponseChecksumValidation.WHEN_SUPPORTED, config.ResponseChecksumValidation);
    }

    [Fact]
    public void StaticKeysOrTheDefaultCredentialChain()
    {
        var basic = Assert.IsType<BasicAWSCredentials>(Rgw.ToCredentials());
        Assert.Equal("key", basic.GetCredentials().AccessKey);
        Assert.IsType<SessionAWSCredentials>((Rgw with { SessionToken = "token" }).ToCredentials());
        Assert.Null((Rgw with { AccessKeyId = null, SecretAccessKey = "" }).ToCredentials());
    }

    [Theory]
    [InlineData("", "key", "secret", "storage_config.aws.bucketnames")]
    [InlineData("loki", "key", "", "access_key_id is set but secret_access_key is empty")]
    [InlineData("loki", "", "secret", "secret_access_key is set but access_key_id is empty")]
    public void MissingSettingsAreConfigurationErrorsNamingTheKey(string bucket, string accessKey, string secret, string message)
    {
        var options = Rgw with { BucketName = bucket, AccessKeyId = accessKey, SecretAccessKey = secret };
        var error = Assert.Throws<ObjectStoreException>(options.Validate);
        Assert.Equal(ObjectStoreErrorKind.Configuration, error.Kind);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Throws<ObjectStoreException>(() => new S3ObjectStore(options));
    }

    [Fact]
    public void AStoreIsCreatedWithoutContactingTheServer()
    {
        using var store = new S3ObjectStore(Rgw with { ConditionalWrites = true });
        Assert.True(store.SupportsCreateOnly);
        using var plain = new S3ObjectStore(Rgw);
        Assert.False(plain.SupportsCreateOnly);
    }

    [Fact]
    public async Task CreateOnlyWithoutConditionalWritesIsNotSupported()
    {
        using var store = new S3ObjectStore(Rgw);
        await Assert.ThrowsAsync<NotSupportedException>(() => store.TryCreateAsync("a", new byte[1]));
    }
}
