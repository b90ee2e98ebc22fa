using System.Globalization;
using System.Text.Json;
using LokiSharp.Compactor;
using LokiSharp.Compactor.Deletion;
using LokiSharp.LogQL.Syntax;
using LokiSharp.Server.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace LokiSharp.Server.Http;

/// <summary>
/// Loki's delete API (spec §9): create, list and cancel delete requests, and the cache generation number.
/// Mapped only when <c>compactor.retention_enabled</c> is true, so otherwise the paths are 404 as in Loki.
/// </summary>
public static class DeleteEndpoints
{
    private const string DeletePath = "/loki/api/v1/delete";

    /// <summary>Maps the delete routes when retention is enabled.</summary>
    public static void MapDeleteEndpoints(this IEndpointRouteBuilder endpoints)
    {
        if (!endpoints.ServiceProvider.GetRequiredService<LokiConfig>().Compactor.RetentionEnabled)
        {
            return;
        }

        endpoints.MapMethods(DeletePath, ["POST", "PUT"], static (HttpContext context) => Create(context));
        endpoints.MapGet(DeletePath, static (HttpContext context) => List(context));
        endpoints.MapDelete(DeletePath, static (HttpContext context) => Cancel(context));
        endpoints.MapGet("/loki/api/v1/cache/generation_numbers", static (HttpContext context) => Generation(context));
    }

    private static string? Tenant(HttpContext context, out IResult? failure)
    {
        var tenancy = context.RequestServices.GetRequiredService<Tenancy>();
        var tenant = tenancy.ResolveSingle(context.Request.Headers["X-Scope-OrgID"], out var error);
        failure = tenant is null ? PlainText.Result(error.Status, error.Message) : null;
        return tenant;
    }

    private static IResult Create(HttpContext context)
    {
        var tenant = Tenant(context, out var failure);
        if (tenant is null)
        {
            return failure!;
        }

        var limits = context.RequestServices.GetRequiredService<TenantLimitsSource>().LimitsFor(tenant);
        if (limits.DeletionMode == "disabled")
        {
            return PlainText.Result(StatusCodes.Status403Forbidden, "deletion is not available for this tenant");
        }

        var query = context.Request.Query["query"].ToString();
        if (query.Length == 0)
        {
            return BadRequest("query not set");
        }

        try
        {
            LogQLParser.ParseLogSelector(query);
        }
        catch (LogQLParseException e)
        {
            return BadRequest(e.Message);
        }

        var startText = context.Request.Query["start"].ToString();
        if (startText.Length == 0)
        {
            return BadRequest("start time not set");
        }

        if (!TryParseTime(startText, out var startMs))
        {
            return BadRequest("invalid start time: require unix seconds or RFC3339 format");
        }

        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var endMs = nowMs;
        var endText = context.Request.Query["end"].ToString();
        if (endText.Length > 0)
        {
            if (!TryParseTime(endText, out endMs))
            {
                return BadRequest("invalid end time: require unix seconds or RFC3339 format");
            }

            if (endMs > nowMs)
            {
                return BadRequest("deletes in the future are not allowed");
            }
        }

        if (startMs >= endMs)
        {
            return BadRequest("start time can't be greater than or equal to end time");
        }

        var maxInterval = context.Request.Query["max_interval"].ToString();
        if (maxInterval.Length > 0 && (!ConfigDuration.TryParse(maxInterval, out var interval) || interval < TimeSpan.FromSeconds(1)))
        {
            return BadRequest("invalid max_interval: valid time units are 's', 'm', 'h'");
        }

        var compactor = context.RequestServices.GetRequiredService<StoreCompactor>();
        var request = new DeleteRequest
        {
            RequestId = Guid.NewGuid().ToString("N")[..8],
            Tenant = tenant,
            Query = query,
            StartMs = startMs,
            EndMs = endMs,
            CreatedAtMs = nowMs,
        };
        compactor.DeleteRequests.Add(request);
        context.RequestServices.GetRequiredService<CompactorMetrics>().DeleteRequestsReceived.WithLabels(tenant).Inc();
        context.Response.Headers["X-Delete-Request-ID"] = request.RequestId;
        return Results.NoContent();
    }

    private static IResult List(HttpContext context)
    {
        var tenant = Tenant(context, out var failure);
        if (tenant is null)
        {
            return failure!;
        }

        var startMs = long.MinValue;
        var endMs = long.MaxValue;
        var startText = context.Request.Query["start"].ToString();
        var endText = context.Request.Query["end"].ToString();
        if (startText.Length > 0 && !TryParseTime(startText, out startMs))
        {
            return BadRequest("invalid start time: require unix seconds or RFC3339 format");
        }

        if (endText.Length > 0 && !TryParseTime(endText, out endMs))
        {
            return BadRequest("invalid end time: require unix seconds or RFC3339 format");
        }

        var requests = context.RequestServices.GetRequiredService<StoreCompactor>().DeleteRequests
            .ForTenant(tenant, startMs, endMs);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var r in requests)
            {
                json.WriteStartObject();
                json.WriteString("request_id", r.RequestId);
                WriteSeconds(json, "start_time", r.StartMs);
                WriteSeconds(json, "end_time", r.EndMs);
                json.WriteString("query", r.Query);
                json.WriteString("status", r.Status == DeleteRequestStatus.Processed ? "processed" : "received");
                WriteSeconds(json, "created_at", r.CreatedAtMs);
                json.WriteString("user_id", string.Empty);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        return Results.Bytes(buffer.ToArray(), "application/json; charset=UTF-8");
    }

    private static IResult Cancel(HttpContext context)
    {
        var tenant = Tenant(context, out var failure);
        if (tenant is null)
        {
            return failure!;
        }

        var compactor = context.RequestServices.GetRequiredService<StoreCompactor>();
        var id = context.Request.Query["request_id"].ToString();
        var request = compactor.DeleteRequests.Find(tenant, id);
        if (request is null)
        {
            return PlainText.Result(StatusCodes.Status404NotFound, "could not find delete request with given id");
        }

        if (request.Status == DeleteRequestStatus.Processed)
        {
            return BadRequest("deletion of request which is in process or already processed is not allowed");
        }

        var force = bool.TryParse(context.Request.Query["force"].ToString(), out var f) && f;
        var cancelPeriod = compactor.Options.DeleteRequestCancelPeriod;
        var nowMs = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeMilliseconds();
        if (!force && nowMs - request.CreatedAtMs > (long)cancelPeriod.TotalMilliseconds)
        {
            return BadRequest("Cancellation of partially completed delete request or delete request past the deadline of " +
                              ConfigDuration.Format(cancelPeriod) + " since its creation is not allowed. To force, use the ?force query parameter");
        }

        compactor.DeleteRequests.Remove(tenant, id);
        return Results.NoContent();
    }

    private static IResult Generation(HttpContext context)
    {
        var tenant = Tenant(context, out var failure);
        if (tenant is null)
        {
            return failure!;
        }

        var generation = context.RequestServices.GetRequiredService<StoreCompactor>().DeleteRequests.Generation;
        return Results.Text("\"" + generation.ToString(CultureInfo.InvariantCulture) + "\"\n", "application/json; charset=UTF-8");
    }

    private static IResult BadRequest(string message) => PlainText.Result(StatusCodes.Status400BadRequest, message);

    private static void WriteSeconds(Utf8JsonWriter json, string name, long ms)
    {
        // Prometheus model.Time: seconds with the milliseconds as a fraction only when non-zero.
        json.WritePropertyName(name);
        json.WriteRawValue(ms % 1000 == 0
            ? (ms / 1000).ToString(CultureInfo.InvariantCulture)
            : (ms / 1000.0).ToString("0.###", CultureInfo.InvariantCulture));
    }

    /// <summary>Loki's delete API times: exactly ten digits of Unix seconds, or RFC3339.</summary>
    private static bool TryParseTime(string text, out long unixMs)
    {
        unixMs = 0;
        if (text.Length == 10 && text.All(char.IsAsciiDigit))
        {
            unixMs = long.Parse(text, CultureInfo.InvariantCulture) * 1000;
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time) && text.Contains('T', StringComparison.Ordinal))
        {
            unixMs = time.ToUnixTimeMilliseconds();
            return true;
        }

        return false;
    }
}
