using System.Text.Json;
using LokiSharp.Storage.Objects;

namespace LokiSharp.Server.Configuration;

/// <summary>
/// Turns Loki's S3 keys (<see cref="AwsStorageConfig"/>) into <see cref="S3ObjectStoreOptions"/> the way Loki's
/// S3 client resolves them (<c>pkg/storage/chunk/client/aws/s3_storage_client.go</c>): the <c>s3</c> URL first,
/// then the explicit keys over it. Errors are <see cref="ConfigException"/>s naming the key.
/// </summary>
public static class S3StorageConfig
{
    /// <summary>Loki's signature versions.</summary>
    public static readonly IReadOnlyList<string> SignatureVersions = ["v4"];

    /// <summary>Loki's storage classes.</summary>
    public static readonly IReadOnlyList<string> StorageClasses =
    [
        "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "INTELLIGENT_TIERING", "ONEZONE_IA", "OUTPOSTS", "REDUCED_REDUNDANCY",
        "STANDARD", "STANDARD_IA",
    ];

    /// <summary>Loki's server-side encryption types.</summary>
    public static readonly IReadOnlyList<string> SseTypes = ["SSE-KMS", "SSE-S3"];

    /// <summary>
    /// What Loki checks of every S3 block at start-up, used or not: the signature version, the storage class and the
    /// encryption settings. <paramref name="key"/> is the block's path (<c>storage_config.aws</c>...).
    /// </summary>
    /// <exception cref="ConfigException">A value Loki rejects.</exception>
    public static void Validate(AwsStorageConfig aws, string key)
    {
        if (!SignatureVersions.Contains(aws.SignatureVersion))
        {
            throw Error(key + ".signature_version",
                $"unsupported signature version \"{aws.SignatureVersion}\", use one of: {string.Join(", ", SignatureVersions)}");
        }

        if (!StorageClasses.Contains(aws.StorageClass))
        {
            throw Error(key + ".storage_class",
                $"unsupported S3 storage class \"{aws.StorageClass}\", use one of: {string.Join(", ", StorageClasses)}");
        }

        if (aws.Sse.Type.Length > 0 && !SseTypes.Contains(aws.Sse.Type))
        {
            throw Error(key + ".sse.type", $"unsupported S3 SSE type \"{aws.Sse.Type}\", use one of: {string.Join(", ", SseTypes)}");
        }

        if (aws.Sse.KmsEncryptionContext.Length > 0 && !IsJsonObject(aws.Sse.KmsEncryptionContext))
        {
            throw Error(key + ".sse.kms_encryption_context", "invalid S3 SSE encryption context: it must be a JSON object");
        }
    }

    /// <summary>
    /// The store options for an S3 block: the <c>s3</c> URL gives keys, a region (a host without a dot) or an
    /// endpoint (a host with one; <c>s3://</c> means plain HTTP) and a bucket; <c>endpoint</c>, <c>region</c>, the
    /// key pair and <c>bucketnames</c> override it. No keys at all means the SDK's default credential chain.
    /// </summary>
    /// <exception cref="ConfigException">The block cannot reach a bucket: no bucket, several, half a key pair, a bad URL.</exception>
    public static S3ObjectStoreOptions ToOptions(AwsStorageConfig aws, string key)
    {
        Validate(aws, key);
        string? endpoint = null, region = null, accessKey = null, secretKey = null, sessionToken = null, urlBucket = null;
        if (aws.S3.Length > 0)
        {
            var url = ParseUrl(aws.S3, key + ".s3");
            (accessKey, secretKey) = Credentials(url);
            var host = url.IsDefaultPort ? url.Host : url.Host + ":" + url.Port;
            if (host.Contains('.', StringComparison.Ordinal))
            {
                endpoint = url.Scheme switch
                {
                    "http" or "https" => url.Scheme + "://" + host,

                    // Loki keeps s3:// URLs on plain HTTP for compatibility, whatever `insecure` says.
                    "s3" => "http://" + host,
                    _ => host,
                };
            }
            else if (host.Length > 0)
            {
                region = host;
            }

            urlBucket = Uri.UnescapeDataString(url.AbsolutePath.TrimStart('/'));
        }

        if (aws.AccessKeyId.Length > 0 != aws.SecretAccessKey.Length > 0)
        {
            throw Error(key + (aws.AccessKeyId.Length > 0 ? ".secret_access_key" : ".access_key_id"),
                "must supply both an Access Key ID and Secret Access Key or neither");
        }

        if (aws.AccessKeyId.Length > 0)
        {
            (accessKey, secretKey, sessionToken) = (aws.AccessKeyId, aws.SecretAccessKey, NullIfEmpty(aws.SessionToken));
        }

        var options = new S3ObjectStoreOptions
        {
            Endpoint = aws.Endpoint.Length > 0 ? aws.Endpoint : endpoint,
            Region = aws.Region.Length > 0 ? aws.Region : region,
            BucketName = Bucket(aws.Bucketnames, urlBucket, key),
            AccessKeyId = accessKey,
            SecretAccessKey = secretKey,
            SessionToken = sessionToken,
            ForcePathStyle = aws.S3ForcePathStyle,
            Insecure = aws.Insecure,
            ResponseHeaderTimeout = aws.HttpConfig.ResponseHeaderTimeout > TimeSpan.Zero
                ? aws.HttpConfig.ResponseHeaderTimeout
                : aws.HttpConfig.Timeout,
            MaxRetries = aws.BackoffConfig.MaxRetries,
        };

        if (aws.BackoffConfig.MaxRetries < 0)
        {
            throw Error(key + ".backoff_config.max_retries", $"must not be negative ({aws.BackoffConfig.MaxRetries})");
        }

        if (options.Endpoint is { Length: > 0 } && !Uri.TryCreate(
                options.Endpoint.Contains("://", StringComparison.Ordinal) ? options.Endpoint : "https://" + options.Endpoint,
                UriKind.Absolute, out _))
        {
            throw Error(aws.Endpoint.Length > 0 ? key + ".endpoint" : key + ".s3", $"\"{options.Endpoint}\" is not a host[:port] or URL");
        }

        try
        {
            options.Validate();
        }
        catch (ObjectStoreException e)
        {
            throw Error(key, e.Message);
        }

        return options;
    }

    private static Uri ParseUrl(string text, string key)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme.Length == 0)
        {
            throw Error(key, $"\"{SecretAttribute.RedactUrl(text)}\" is not a URL (s3://key:secret@region/bucket, " +
                "http(s)://key:secret@host.domain:port/bucket; escape a '/' in the secret as %2F)");
        }

        if (url.Scheme == "inmemory")
        {
            throw Error(key, "inmemory:// is Loki's in-memory mock store, which LokiSharp does not provide; give a real bucket");
        }

        return url;
    }

    // Loki takes the URL's user and password as static keys when either is set (they are URL-escaped).
    private static (string? Key, string? Secret) Credentials(Uri url)
    {
        var userInfo = url.UserInfo;
        if (userInfo.Length == 0)
        {
            return (null, null);
        }

        var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        var user = Uri.UnescapeDataString(colon < 0 ? userInfo : userInfo[..colon]);
        var password = colon < 0 ? "" : Uri.UnescapeDataString(userInfo[(colon + 1)..]);
        return user.Length == 0 && password.Length == 0 ? (null, null) : (user, password);
    }

    private static string Bucket(string bucketnames, string? urlBucket, string key)
    {
        if (bucketnames.Length == 0)
        {
            return urlBucket is { Length: > 0 }
                ? urlBucket
                : throw Error(key + ".bucketnames", "at least one bucket name must be specified (here or as the path of the s3 URL)");
        }

        var names = bucketnames.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return names.Length switch
        {
            0 => throw Error(key + ".bucketnames", "at least one bucket name must be specified"),
            1 => names[0],
            _ => throw Error(key + ".bucketnames",
                $"{names.Length} buckets are listed ({string.Join(", ", names)}); Loki spreads chunks over several buckets, " +
                "LokiSharp stores everything in one: list a single bucket"),
        };
    }

    private static bool IsJsonObject(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static ConfigException Error(string key, string message) => new($"key {key}: {message}");
}
