using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;

namespace LokiSharp.Storage.Objects;

public sealed partial class S3ObjectStore
{
    // S3 error codes that mean "slow down or try again", whatever the status code.
    private static readonly HashSet<string> TransientCodes = new(StringComparer.Ordinal)
    {
        "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed", "InternalError",
        "ServiceUnavailable", "OperationAborted", "ConditionalRequestConflict", "RequestLimitExceeded",
    };

    /// <summary>Translates a failure of <paramref name="operation"/> into an <see cref="ObjectStoreException"/>.</summary>
    internal ObjectStoreException Translate(Exception e, string operation, string? key) => Translate(e, operation, key, _options);

    /// <summary>
    /// The error mapping, pure so it is unit-tested without a server: 404 is "not found" (a missing bucket is a
    /// configuration error), 5xx, 429, throttling codes, timeouts and network errors are transient, 403 and
    /// credential or bucket errors are configuration errors naming the key to fix.
    /// </summary>
    internal static ObjectStoreException Translate(Exception e, string operation, string? key, S3ObjectStoreOptions options)
    {
        var subject = key is null ? $"bucket {options.BucketName}" : $"object {key} in bucket {options.BucketName}";
        var where = $"S3 {operation} of {subject}";
        if (e is AmazonServiceException service && service.StatusCode != 0)
        {
            var code = service.ErrorCode ?? "";
            var status = (int)service.StatusCode;
            var detail = $"{where}: {status} {code} {service.Message}".TrimEnd();
            return code switch
            {
                "NoSuchBucket" => Configuration(
                    $"bucket \"{options.BucketName}\" does not exist at {ServerName(options)} (storage_config.aws.bucketnames)", key, e),
                "InvalidAccessKeyId" => Configuration(
                    $"the S3 server does not know this access key id (storage_config.aws.access_key_id): {detail}", key, e),
                "SignatureDoesNotMatch" => Configuration(
                    $"the S3 signature does not match: check storage_config.aws.secret_access_key (and region): {detail}", key, e),
                "AccessDenied" or "AllAccessDisabled" or "InvalidToken" or "ExpiredToken" => Configuration(
                    $"access denied: check the credentials (storage_config.aws.access_key_id / secret_access_key) "
                    + $"and the bucket's policy: {detail}", key, e),
                "AuthorizationHeaderMalformed" or "PermanentRedirect" or "IllegalLocationConstraintException" => Configuration(
                    $"the bucket is in another region or at another endpoint (storage_config.aws.region / endpoint): {detail}", key, e),
                "NotImplemented" => Configuration(
                    $"the S3 server does not implement this request (turn off conditional writes or chunked payload signing if "
                    + $"it cannot do them): {detail}", key, e),
                "NoSuchKey" => ObjectStoreException.NotFound(key ?? "", e),
                _ when TransientCodes.Contains(code) => Transient(detail, key, e),
                _ => status switch
                {
                    404 => ObjectStoreException.NotFound(key ?? "", e),
                    401 or 403 => Configuration(
                        $"access denied: check storage_config.aws.access_key_id / secret_access_key and the bucket's policy: {detail}", key, e),
                    408 or 429 or >= 500 => Transient(detail, key, e),
                    _ => new ObjectStoreException(ObjectStoreErrorKind.Permanent, key, detail, e),
                },
            };
        }

        return IsNetworkFailure(e)
            ? Transient($"{where} failed: cannot reach {ServerName(options)}: {Innermost(e).Message}", key, e)
            : new ObjectStoreException(ObjectStoreErrorKind.Permanent, key, $"{where} failed: {e.Message}", e);
    }

    // Everything but the caller's own cancellation, which passes through as OperationCanceledException.
    private static bool IsTranslatable(Exception e, CancellationToken cancellationToken) =>
        !(e is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private static bool IsNetworkFailure(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException or SocketException or IOException or TimeoutException or OperationCanceledException
                or WebException)
            {
                return true;
            }
        }

        // The SDK wraps what it could not send in AmazonClientException; its own retries are exhausted by then.
        return e is AmazonClientException;
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }

    private static string ServerName(S3ObjectStoreOptions options) =>
        string.IsNullOrEmpty(options.Endpoint) ? $"AWS S3 ({options.Region ?? "default region"})" : options.Endpoint!;

    private static ObjectStoreException Configuration(string message, string? key, Exception e) =>
        new(ObjectStoreErrorKind.Configuration, key, message, e);

    private static ObjectStoreException Transient(string message, string? key, Exception e) =>
        new(ObjectStoreErrorKind.Transient, key, message, e);
}
