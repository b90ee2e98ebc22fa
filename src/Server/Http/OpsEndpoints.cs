using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using LokiSharp.Server.Configuration;
using LokiSharp.Server.Hosting;
using LokiSharp.Server.Logging;

namespace LokiSharp.Server.Http;

/// <summary>Operational endpoints: <c>/ready</c>, <c>/services</c>, <c>/config</c>, buildinfo and <c>/log_level</c>.</summary>
internal static partial class OpsEndpoints
{
    // Go's encoding/json leaves '+' and quotes readable; the default web encoder would escape them.
    private static readonly JsonSerializerOptions Json = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        TypeInfoResolver = OpsJsonContext.Default,
    };

    public static void MapOpsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/ready", static (ServerState state, ModuleRegistry modules, LokiSharp.Storage.Store.ChunkStore store, IServiceProvider services) =>
        {
            if (state.Stopping)
            {
                return PlainText.Result(StatusCodes.Status503ServiceUnavailable, "Application is stopping");
            }

            // Pushes are still acknowledged from the WAL meanwhile; flushes and refreshes retry until it answers.
            if (store.BucketHealth?.Problem is { } problem)
            {
                return PlainText.Result(StatusCodes.Status503ServiceUnavailable, "Store not ready: " + problem);
            }

            // Two compactors on one bucket by mistake: the older one idles and says so (docs/formats/bucket.md).
            if (services.GetService<LokiSharp.Compactor.StoreCompactor>()?.SteppedDownFor is { } other)
            {
                return PlainText.Result(StatusCodes.Status503ServiceUnavailable, "Compactor not ready: a newer compactor is running on the bucket: " + other);
            }

            return modules.AllRunning
                ? PlainText.Result(StatusCodes.Status200OK, "ready")
                : PlainText.Result(StatusCodes.Status503ServiceUnavailable, modules.DescribeNotRunning());
        });

        endpoints.MapGet("/services", static (ModuleRegistry modules) =>
            Results.Text(modules.DescribeServices(), "text/plain"));

        endpoints.MapGet("/config", static (HttpContext context, LoadedConfig loaded) =>
        {
            var text = context.Request.Query["mode"].ToString() switch
            {
                "diff" or "diffs" => ConfigYamlWriter.WriteDiff(loaded.Config, new LokiConfig()),
                "defaults" => ConfigYamlWriter.Write(new LokiConfig()),
                _ => ConfigYamlWriter.Write(loaded.Config),
            };
            return Results.Text(text, "text/plain; charset=utf-8");
        });

        endpoints.MapGet("/runtime_config", static (TenantLimitsSource limits) =>
        {
            var overrides = new Dictionary<string, LimitsConfig>(StringComparer.Ordinal);
            foreach (var tenant in limits.TenantsWithOverrides)
            {
                overrides[tenant] = limits.LimitsFor(tenant);
            }

            return Results.Text(ConfigYamlWriter.WriteOverrides(overrides), "text/plain; charset=utf-8");
        });

        endpoints.MapGet("/loki/api/v1/status/buildinfo", static () =>
            Results.Json(BuildInfo.Current, Json.GetTypeInfo(typeof(BuildInfo)), "application/json"));

        endpoints.MapMethods("/log_level", ["GET", "POST"], static async (HttpContext context, LogLevelSwitch level, ILoggerFactory loggers) =>
        {
            if (HttpMethods.IsGet(context.Request.Method))
            {
                return Results.Json(new LogLevelResponse(null, $"Current log level is {level.Name}"), Json.GetTypeInfo(typeof(LogLevelResponse)),
                    "application/json; charset=utf-8");
            }

            string requested;
            try
            {
                requested = (await RequestParams.ReadAsync(context.Request).ConfigureAwait(false)).Get("log_level") ?? "";
            }
            catch (LokiSharp.Querier.Requests.QueryRequestException e)
            {
                return Results.Text(e.Message + "\n", "text/plain; charset=utf-8", statusCode: e.StatusCode);
            }

            if (!level.TrySet(requested))
            {
                return Results.Json(new LogLevelResponse("failed", $"unrecognized log level \"{requested}\""), Json.GetTypeInfo(typeof(LogLevelResponse)),
                    "application/json; charset=utf-8", StatusCodes.Status400BadRequest);
            }

            var message = $"Log level set to {requested}";
            LogLevelChanged(loggers.CreateLogger("LokiSharp.Server.LogLevel"), message);
            return Results.Json(new LogLevelResponse("success", message), Json.GetTypeInfo(typeof(LogLevelResponse)),
                "application/json; charset=utf-8");
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Message}")]
    private static partial void LogLevelChanged(ILogger logger, string message);
}

/// <summary>The body of <c>/log_level</c>, as Loki writes it.</summary>
internal sealed record LogLevelResponse(
    [property: JsonPropertyName("status"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Status,
    [property: JsonPropertyName("message")] string Message);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(BuildInfo))]
[JsonSerializable(typeof(LogLevelResponse))]
internal sealed partial class OpsJsonContext : JsonSerializerContext;
