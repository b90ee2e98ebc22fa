using Amazon;
using Amazon.Runtime;
using Amazon.S3;

namespace LokiSharp.Storage.Objects;

/// <summary>
/// How to reach one S3 bucket; the properties mirror Loki's <c>storage_config.aws</c> keys (named in each
/// summary) plus the switches S3-compatible servers need.
/// </summary>
public sealed record S3ObjectStoreOptions
{
    /// <summary>Signing region when a custom endpoint is given without one; what MinIO and Ceph RGW accept.</summary>
    public const string DefaultRegion = "us-east-1";

    /// <summary>
    /// <c>endpoint</c>: host[:port] of an S3-compatible server (the scheme follows <see cref="Insecure"/>), or a full
    /// http(s) URL. Empty for AWS itself, reached through <see cref="Region"/>.
    /// </summary>
    public string? Endpoint { get; init; }

    /// <summary><c>bucketnames</c>: the bucket (one; Loki's sharding over several is not supported).</summary>
    public string BucketName { get; init; } = "";

    /// <summary><c>region</c>: empty means <see cref="DefaultRegion"/> with an endpoint, or the SDK's own lookup (AWS_REGION...) without.</summary>
    public string? Region { get; init; }

    /// <summary><c>access_key_id</c>: with <see cref="SecretAccessKey"/>, static keys; both empty use the SDK's default credential chain.</summary>
    public string? AccessKeyId { get; init; }

    /// <summary><c>secret_access_key</c>.</summary>
    public string? SecretAccessKey { get; init; }

    /// <summary><c>session_token</c>: for temporary static keys.</summary>
    public string? SessionToken { get; init; }

    /// <summary><c>s3forcepathstyle</c>: <c>http://endpoint/bucket/key</c> instead of <c>http://bucket.endpoint/key</c>.</summary>
    public bool ForcePathStyle { get; init; }

    /// <summary><c>insecure</c>: plain HTTP to the endpoint.</summary>
    public bool Insecure { get; init; }

    /// <summary><c>http_config.response_header_timeout</c>: how long one request may take; zero keeps the SDK's default.</summary>
    public TimeSpan ResponseHeaderTimeout { get; init; }

    /// <summary><c>backoff_config.max_retries</c>: the SDK's retries of a throttled or failed request before the error surfaces.</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>
    /// Streaming (chunked, <c>aws-chunked</c>) payload signing of uploads. Servers differ: some S3-compatible ones
    /// (older Ceph RGW among them) reject it, so it can be turned off; the payload is then signed whole.
    /// </summary>
    public bool ChunkedPayloadSigning { get; init; } = true;

    /// <summary>
    /// Conditional writes (<c>If-None-Match: *</c>): the server refuses to overwrite an existing key, which makes
    /// <see cref="IObjectStore.TryCreateAsync"/> available. Only where the server supports it (AWS since 2024).
    /// </summary>
    public bool ConditionalWrites { get; init; }

    /// <summary>
    /// The SDK's newer flexible checksums (CRC trailers) on requests and responses where the API does not require
    /// them. Off by default: many S3-compatible servers do not understand them, and blocks carry their own checksums.
    /// </summary>
    public bool FlexibleChecksums { get; init; }

    /// <summary>Keys asked for per listing page (S3's maximum is 1000); tests lower it to exercise paging.</summary>
    public int ListPageSize { get; init; } = 1000;

    /// <summary>Throws <see cref="ObjectStoreException"/> (<see cref="ObjectStoreErrorKind.Configuration"/>) naming the key that is wrong.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(BucketName))
        {
            throw ConfigurationError("no bucket is configured (storage_config.aws.bucketnames)");
        }

        if (string.IsNullOrEmpty(AccessKeyId) != string.IsNullOrEmpty(SecretAccessKey))
        {
            throw ConfigurationError(string.IsNullOrEmpty(AccessKeyId)
                ? "storage_config.aws.secret_access_key is set but access_key_id is empty"
                : "storage_config.aws.access_key_id is set but secret_access_key is empty");
        }

        if (!string.IsNullOrEmpty(Endpoint) && !Uri.TryCreate(EndpointUrl(), UriKind.Absolute, out _))
        {
            throw ConfigurationError($"storage_config.aws.endpoint \"{Endpoint}\" is not a host[:port] or URL");
        }

        if (ListPageSize is < 1 or > 1000)
        {
            throw ConfigurationError($"the listing page size must be between 1 and 1000, not {ListPageSize}");
        }

        if (MaxRetries < 0)
        {
            throw ConfigurationError($"storage_config.aws.backoff_config.max_retries must not be negative ({MaxRetries})");
        }
    }

    /// <summary>The SDK client settings these options stand for.</summary>
    public AmazonS3Config ToClientConfig()
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = ForcePathStyle,
            UseHttp = Insecure,
            MaxErrorRetry = MaxRetries,
            RequestChecksumCalculation = FlexibleChecksums
                ? RequestChecksumCalculation.WHEN_SUPPORTED
                : RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = FlexibleChecksums
                ? ResponseChecksumValidation.WHEN_SUPPORTED
                : ResponseChecksumValidation.WHEN_REQUIRED,
        };

        if (!string.IsNullOrEmpty(Endpoint))
        {
            config.ServiceURL = EndpointUrl();
            config.AuthenticationRegion = string.IsNullOrEmpty(Region) ? DefaultRegion : Region;
        }
        else if (!string.IsNullOrEmpty(Region))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(Region);
        }

        if (ResponseHeaderTimeout > TimeSpan.Zero)
        {
            config.Timeout = ResponseHeaderTimeout;
        }

        return config;
    }

    /// <summary>Static credentials when keys are configured; null means the SDK's default credential chain.</summary>
    public AWSCredentials? ToCredentials()
    {
        if (string.IsNullOrEmpty(AccessKeyId) || string.IsNullOrEmpty(SecretAccessKey))
        {
            return null;
        }

        return string.IsNullOrEmpty(SessionToken)
            ? new BasicAWSCredentials(AccessKeyId, SecretAccessKey)
            : new SessionAWSCredentials(AccessKeyId, SecretAccessKey, SessionToken);
    }

    private string EndpointUrl() =>
        Endpoint!.Contains("://", StringComparison.Ordinal) ? Endpoint : (Insecure ? "http://" : "https://") + Endpoint;

    private static ObjectStoreException ConfigurationError(string message) =>
        new(ObjectStoreErrorKind.Configuration, null, message);
}
