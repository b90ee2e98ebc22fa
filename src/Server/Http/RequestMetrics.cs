using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Prometheus;

namespace LokiSharp.Server.Http;

/// <summary>
/// Loki's per-request instrumentation: <c>loki_request_duration_seconds</c> (method, route, status_code, ws),
/// <c>loki_inflight_requests</c> and <c>loki_request_message_bytes</c>, for HTTP and gRPC alike.
/// </summary>
internal sealed class RequestMetrics
{
    // Loki's instrument.DefBuckets extended to 100 s.
    private static readonly double[] DurationBuckets = [.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 25, 50, 100];

    private readonly Histogram _duration;
    private readonly Gauge _inflight;
    private readonly Histogram _requestBytes;

    public RequestMetrics(IMetricFactory factory)
    {
        _duration = factory.CreateHistogram("loki_request_duration_seconds", "Time (in seconds) spent serving HTTP requests.",
            ["method", "route", "status_code", "ws"], new HistogramConfiguration { Buckets = DurationBuckets });
        _inflight = factory.CreateGauge("loki_inflight_requests", "Current number of inflight requests.", ["method", "route"]);
        _requestBytes = factory.CreateHistogram("loki_request_message_bytes", "Size (in bytes) of messages received in the request.",
            ["method", "route"], new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1024, 4, 10) });
    }

    /// <summary>The middleware; place it after routing so the matched route template is known.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var grpc = IsGrpc(context.Request);
        var method = grpc ? "gRPC" : context.Request.Method;
        var route = grpc ? context.Request.Path.Value ?? "other" : RouteName(context);
        var ws = context.WebSockets.IsWebSocketRequest ? "true" : "false";
        var inflight = _inflight.WithLabels(method, route);
        inflight.Inc();
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            inflight.Dec();
            var status = grpc ? GrpcStatus(context) : context.Response.StatusCode.ToString(CultureInfo.InvariantCulture);
            _duration.WithLabels(method, route, status, ws).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            _requestBytes.WithLabels(method, route).Observe(context.Request.ContentLength ?? 0);
        }
    }

    /// <summary>Loki's route label: the route template lower-cased with runs of non-alphanumerics as <c>_</c>.</summary>
    public static string MakeLabelValue(string template)
    {
        var sb = new StringBuilder(template.Length);
        var pendingUnderscore = false;
        foreach (var c in template)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                if (pendingUnderscore && sb.Length > 0)
                {
                    sb.Append('_');
                }

                pendingUnderscore = false;
                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                pendingUnderscore = true;
            }
        }

        return sb.Length == 0 ? "root" : sb.ToString();
    }

    private static string RouteName(HttpContext context) =>
        context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } template } ? MakeLabelValue(template) : "other";

    private static bool IsGrpc(HttpRequest request) =>
        request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    private static string GrpcStatus(HttpContext context)
    {
        var code = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-status"].ToString();
        if (string.IsNullOrEmpty(code))
        {
            code = context.Response.Headers["grpc-status"].ToString();
        }

        return code switch
        {
            "0" or "" => "success",
            "1" => "cancel",
            _ => "error",
        };
    }
}
