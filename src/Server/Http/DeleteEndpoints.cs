using System.Text.Json;
using LokiSharp.Compactor;
using LokiSharp.Compactor.Deletion;
using LokiSharp.Server.Configuration;

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
        var nowMs = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeMilliseconds();
        DeleteRequest request;
        try
        {
            DeleteRequestValidator.CheckDeletionMode(limits.DeletionMode);
            var query = context.Request.Query;
            request = DeleteRequestValidator.ParseCreate(tenant, query["query"].ToString(), query["start"].ToString(), query["end"].ToString(),
                query["max_interval"].ToString(), nowMs);
        }
        catch (DeleteRequestException e)
        {
            return PlainText.Result(e.StatusCode, e.Message);
        }

        var compactor = context.RequestServices.GetRequiredService<StoreCompactor>();
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

        long startMs, endMs;
        try
        {
            (startMs, endMs) = DeleteRequestValidator.ParseListRange(context.Request.Query["start"].ToString(), context.Request.Query["end"].ToString());
        }
        catch (DeleteRequestException e)
        {
            return PlainText.Result(e.StatusCode, e.Message);
        }

        var requests = context.RequestServices.GetRequiredService<StoreCompactor>().DeleteRequests
            .ForTenant(tenant, startMs, endMs);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            DeleteRequestJson.WriteList(json, requests);
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
        var force = bool.TryParse(context.Request.Query["force"].ToString(), out var f) && f;
        var nowMs = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeMilliseconds();
        try
        {
            DeleteRequestValidator.CheckCancel(compactor.DeleteRequests.Find(tenant, id), force, compactor.Options.DeleteRequestCancelPeriod, nowMs);
        }
        catch (DeleteRequestException e)
        {
            return PlainText.Result(e.StatusCode, e.Message);
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
        return Results.Text(DeleteRequestJson.GenerationBody(generation), "application/json; charset=UTF-8");
    }
}
