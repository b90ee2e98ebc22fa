using System.Text;
using System.Text.Json;
using LokiSharp.Ruler.Api;
using LokiSharp.Ruler.Rules;
using LokiSharp.Server.Hosting;

namespace LokiSharp.Server.Http;

/// <summary>
/// Loki's ruler API (<c>pkg/ruler/base/api.go</c>), mapped only with <c>ruler.enable_api: true</c>: the rule groups of the
/// tenant's namespaces as YAML (read, set, delete, on the local rule directory; a change applies at once), and the
/// Prometheus-compatible <c>rules</c> and <c>alerts</c> of what is being evaluated, as JSON.
/// </summary>
internal static class RulerEndpoints
{
    private const string YamlContentType = "application/yaml";
    private const string JsonContentType = "application/json";
    private const int MaxBodyBytes = 1 << 20;

    public static void MapRulerEndpoints(this IEndpointRouteBuilder endpoints)
    {
        if (!endpoints.ServiceProvider.GetRequiredService<LokiSharp.Server.Configuration.LokiConfig>().Ruler.EnableApi)
        {
            return;
        }

        foreach (var prefix in new[] { "/loki/api/v1/rules", "/api/prom/rules" })
        {
            endpoints.MapGet(prefix, static context => ListAsync(context));
            endpoints.MapGet(prefix + "/{namespace}", static context => ListAsync(context));
            endpoints.MapGet(prefix + "/{namespace}/{groupName}", static context => GetGroupAsync(context));
            endpoints.MapPost(prefix + "/{namespace}", static context => SetGroupAsync(context));
            endpoints.MapDelete(prefix + "/{namespace}/{groupName}", static context => DeleteGroupAsync(context));
            endpoints.MapDelete(prefix + "/{namespace}", static context => DeleteNamespaceAsync(context));
        }

        foreach (var prefix in new[] { "/prometheus/api/v1", "/api/prom/api/v1" })
        {
            endpoints.MapGet(prefix + "/rules", static context => PrometheusRulesAsync(context));
            endpoints.MapGet(prefix + "/alerts", static context => PrometheusAlertsAsync(context));
        }
    }

    private static async Task ListAsync(HttpContext context)
    {
        if (await ParseAsync(context, requireGroup: false) is not { } request)
        {
            return;
        }

        var groups = request.Ruler.Store.List(request.Tenant, request.Namespace);
        if (groups.Count == 0)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status404NotFound, "no rule groups found").ConfigureAwait(false);
            return;
        }

        await WriteYamlAsync(context, RuleGroupYaml.Namespaces(groups)).ConfigureAwait(false);
    }

    private static async Task GetGroupAsync(HttpContext context)
    {
        if (await ParseAsync(context, requireGroup: true) is not { } request)
        {
            return;
        }

        var group = request.Ruler.Store.Get(request.Tenant, request.Namespace!, request.Group!);
        if (group is null)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status404NotFound, LocalRuleStore.GroupNotFound).ConfigureAwait(false);
            return;
        }

        await WriteYamlAsync(context, RuleGroupYaml.Group(group)).ConfigureAwait(false);
    }

    private static async Task SetGroupAsync(HttpContext context)
    {
        if (await ParseAsync(context, requireGroup: false) is not { } request)
        {
            return;
        }

        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        if (body is null)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "rule group larger than 1 MiB").ConfigureAwait(false);
            return;
        }

        var (group, errors) = RuleFileParser.ParseGroupBody(body);
        if (group is null)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status400BadRequest, string.Join(", ", errors)).ConfigureAwait(false);
            return;
        }

        if (!await WriteAsync(context, request, () => request.Ruler.Store.Set(request.Tenant, request.Namespace!, group)).ConfigureAwait(false))
        {
            return;
        }

        request.Ruler.Reload();
        await WriteJsonAsync(context, StatusCodes.Status202Accepted, PrometheusRulesJson.WriteAccepted).ConfigureAwait(false);
    }

    private static async Task DeleteGroupAsync(HttpContext context)
    {
        if (await ParseAsync(context, requireGroup: true) is not { } request)
        {
            return;
        }

        var deleted = false;
        if (!await WriteAsync(context, request, () => deleted = request.Ruler.Store.DeleteGroup(request.Tenant, request.Namespace!, request.Group!))
            .ConfigureAwait(false))
        {
            return;
        }

        if (!deleted)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status404NotFound, LocalRuleStore.GroupNotFound).ConfigureAwait(false);
            return;
        }

        request.Ruler.Reload();
        await WriteJsonAsync(context, StatusCodes.Status202Accepted, PrometheusRulesJson.WriteAccepted).ConfigureAwait(false);
    }

    private static async Task DeleteNamespaceAsync(HttpContext context)
    {
        if (await ParseAsync(context, requireGroup: false) is not { } request)
        {
            return;
        }

        var deleted = false;
        if (!await WriteAsync(context, request, () => deleted = request.Ruler.Store.DeleteNamespace(request.Tenant, request.Namespace!)).ConfigureAwait(false))
        {
            return;
        }

        if (!deleted)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status404NotFound, LocalRuleStore.NamespaceNotFound).ConfigureAwait(false);
            return;
        }

        request.Ruler.Reload();
        await WriteJsonAsync(context, StatusCodes.Status202Accepted, PrometheusRulesJson.WriteAccepted).ConfigureAwait(false);
    }

    private static async Task PrometheusRulesAsync(HttpContext context)
    {
        if (await TenantAsync(context) is not { } tenant)
        {
            return;
        }

        var query = context.Request.Query;
        var request = RulesRequest.Parse(query["type"].ToString(), [.. query["file"].OfType<string>()], [.. query["rule_group"].OfType<string>()],
            [.. query["rule_name"].OfType<string>()], out var error);
        if (request is null)
        {
            await WriteJsonAsync(context, StatusCodes.Status400BadRequest, w => PrometheusRulesJson.WriteError(w, "bad_data", error!)).ConfigureAwait(false);
            return;
        }

        var groups = context.RequestServices.GetRequiredService<RulerModule>().Scheduler.Groups(tenant);
        await WriteJsonAsync(context, StatusCodes.Status200OK, w => PrometheusRulesJson.WriteRules(w, groups, request)).ConfigureAwait(false);
    }

    private static async Task PrometheusAlertsAsync(HttpContext context)
    {
        if (await TenantAsync(context) is not { } tenant)
        {
            return;
        }

        var groups = context.RequestServices.GetRequiredService<RulerModule>().Scheduler.Groups(tenant);
        await WriteJsonAsync(context, StatusCodes.Status200OK, w => PrometheusRulesJson.WriteAlerts(w, groups)).ConfigureAwait(false);
    }

    // A change to the rule directory; a folder that cannot be written (a read-only ConfigMap mount in Kubernetes, where
    // Loki's local store refuses every write) answers 500 with the reason, as Loki answers its store's errors.
    private static async Task<bool> WriteAsync(HttpContext context, RuleRequest request, Action write)
    {
        try
        {
            write();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var message = $"cannot change namespace {request.Namespace} of tenant {request.Tenant}: " +
                $"its rule folder {Path.Combine(request.Ruler.Store.Directory, request.Tenant)} is not writable ({e.Message})";
            await PlainText.WriteAsync(context, StatusCodes.Status500InternalServerError, message).ConfigureAwait(false);
            return false;
        }
    }

    private sealed record RuleRequest(RulerModule Ruler, string Tenant, string? Namespace, string? Group);

    // Loki's parseRequest: the tenant, then the namespace and group from the path (unescaped, one local path element).
    private static async Task<RuleRequest?> ParseAsync(HttpContext context, bool requireGroup)
    {
        if (await TenantAsync(context) is not { } tenant)
        {
            return null;
        }

        var ns = Unescape(context.Request.RouteValues["namespace"] as string);
        var group = Unescape(context.Request.RouteValues["groupName"] as string);
        string? error = null;
        if (ns is not null && (!LocalRuleStore.IsLocalName(ns) || !RuleDirectory.IsRuleFileName(ns)))
        {
            error = "invalid namespace: path traversal not allowed";
        }
        else if (requireGroup && (group is null || !LocalRuleStore.IsLocalName(group)))
        {
            error = "invalid groupname: path traversal not allowed";
        }

        if (error is not null)
        {
            await WriteJsonAsync(context, StatusCodes.Status500InternalServerError, w => PrometheusRulesJson.WriteError(w, "server_error", error))
                .ConfigureAwait(false);
            return null;
        }

        return new RuleRequest(context.RequestServices.GetRequiredService<RulerModule>(), tenant, ns, group);
    }

    private static string? Unescape(string? value) => value is null ? null : Uri.UnescapeDataString(value);

    private static async Task<string?> TenantAsync(HttpContext context)
    {
        var tenancy = context.RequestServices.GetRequiredService<Tenancy>();
        var tenant = tenancy.ResolveSingle(context.Request.Headers["X-Scope-OrgID"], out var error);
        if (tenant is null)
        {
            await PlainText.WriteAsync(context, error.Status, error.Message).ConfigureAwait(false);
        }

        return tenant;
    }

    // The body up to MaxBodyBytes; null when larger.
    private static async Task<string?> ReadBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 << 10];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static async Task WriteYamlAsync(HttpContext context, string yaml)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = YamlContentType;
        await context.Response.WriteAsync(yaml, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = JsonContentType;
        await using (var writer = new Utf8JsonWriter(context.Response.BodyWriter, LokiSharp.Querier.Responses.LokiJson.WriterOptions))
        {
            write(writer);
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
