using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using LokiSharp.Storage.Objects;

namespace LokiSharp.Storage.Tests.Objects;

public sealed class S3ErrorTranslationTests
{
    private static readonly S3ObjectStoreOptions Options = new() { Endpoint = "rgw:7480", BucketName = "loki", Insecure = true };

    public static TheoryData<HttpStatusCode, string, ObjectStoreErrorKind, string> ServiceErrors => new()
    {
        { HttpStatusCode.NotFound, "NoSuchKey", ObjectStoreErrorKind.NotFound, "object k does not exist" },
        { HttpStatusCode.NotFound, "", ObjectStoreErrorKind.NotFound, "object k does not exist" },
        { HttpStatusCode.NotFound, "NoSuchBucket", ObjectStoreErrorKind.Configuration, "bucket \"loki\" does not exist at rgw:7480 (storage_config.aws.bucketnames)" },
        { HttpStatusCode.Forbidden, "InvalidAccessKeyId", ObjectStoreErrorKind.Configuration, "storage_config.aws.access_key_id" },
        { HttpStatusCode.Forbidden, "SignatureDoesNotMatch", ObjectStoreErrorKind.Configuration, "storage_config.aws.secret_access_key" },
        { HttpStatusCode.Forbidden, "AccessDenied", ObjectStoreErrorKind.Configuration, "access denied" },
        { HttpStatusCode.Forbidden, "", ObjectStoreErrorKind.Configuration, "access denied" },
        { HttpStatusCode.MovedPermanently, "PermanentRedirect", ObjectStoreErrorKind.Configuration, "storage_config.aws.region" },
        { HttpStatusCode.NotImplemented, "NotImplemented", ObjectStoreErrorKind.Configuration, "conditional writes" },
        { HttpStatusCode.ServiceUnavailable, "SlowDown", ObjectStoreErrorKind.Transient, "503 SlowDown" },
        { HttpStatusCode.InternalServerError, "InternalError", ObjectStoreErrorKind.Transient, "500 InternalError" },
        { HttpStatusCode.BadGateway, "", ObjectStoreErrorKind.Transient, "502" },
        { HttpStatusCode.TooManyRequests, "", ObjectStoreErrorKind.Transient, "429" },
        { HttpStatusCode.BadRequest, "RequestTimeout", ObjectStoreErrorKind.Transient, "RequestTimeout" },
        { HttpStatusCode.Conflict, "ConditionalRequestConflict", ObjectStoreErrorKind.Transient, "409" },
        { HttpStatusCode.BadRequest, "InvalidArgument", ObjectStoreErrorKind.Permanent, "S3 get of object k in bucket loki: 400 InvalidArgument" },
    };

    [Theory]
    [MemberData(nameof(ServiceErrors))]
    public void ServiceErrorsMapToAKind(HttpStatusCode status, string code, ObjectStoreErrorKind kind, string message)
    {
        var error = new AmazonS3Exception("server said no", ErrorType.Sender, code, "request-id", status);
        var translated = S3ObjectStore.Translate(error, "get", "k", Options);
        Assert.Equal(kind, translated.Kind);
        Assert.Contains(message, translated.Message, StringComparison.Ordinal);
        Assert.Same(error, translated.InnerException);
        Assert.Equal(kind == ObjectStoreErrorKind.Transient, translated.IsTransient);
    }

    [Fact]
    public void NetworkFailuresAndTimeoutsAreTransient()
    {
        Exception[] failures =
        [
            new HttpRequestException("connection refused", new SocketException((int)SocketError.ConnectionRefused)),
            new AmazonClientException("request failed", new IOException("reset by peer")),
            new TaskCanceledException("the request timed out"),
            new AmazonServiceException("no response", new TimeoutException("timed out")),
        ];
        foreach (var failure in failures)
        {
            var translated = S3ObjectStore.Translate(failure, "put", "k", Options);
            Assert.Equal(ObjectStoreErrorKind.Transient, translated.Kind);
            Assert.Contains("cannot reach rgw:7480", translated.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AListingFailureNamesTheBucket()
    {
        var error = new AmazonS3Exception("busy", ErrorType.Receiver, "SlowDown", "id", HttpStatusCode.ServiceUnavailable);
        var translated = S3ObjectStore.Translate(error, "list", null, Options);
        Assert.Null(translated.Key);
        Assert.StartsWith("S3 list of bucket loki: 503 SlowDown", translated.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherFailuresArePermanent()
    {
        var translated = S3ObjectStore.Translate(new InvalidOperationException("bug"), "head", "k", Options);
        Assert.Equal(ObjectStoreErrorKind.Permanent, translated.Kind);
    }
}
