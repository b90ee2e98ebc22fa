using System.Text.Json;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;
using LokiSharp.LogQL.Text;
using LokiSharp.Querier.Cache;
using LokiSharp.Querier.Logs;
using LokiSharp.Querier.Metadata;
using LokiSharp.Querier.Metrics;
using LokiSharp.Querier.Requests;
using LokiSharp.Querier.Responses;
using LokiSharp.Querier.Tenants;
using LokiSharp.Server.Configuration;
using LokiSharp.Storage.Reading;
using Prometheus;

namespace LokiSharp.Server.Http;

/// <summary>The query API: log queries, metadata, index stats and volume, format_query, and the legacy endpoints.</summary>
internal static class QueryEndpoints
{
    private const string JsonContentType = "application/json; charset=UTF-8";

    public static void MapQueryEndpoints(this IEndpointRouteBuilder endpoints)
    {
        string[] getPost = ["GET", "POST"];
        var resultsCache = CreateResultsCache(endpoints.ServiceProvider);
        endpoints.MapMethods("/loki/api/v1/query_range", getPost, context => Handle(context, (c, q) => QueryRangeAsync(c, q, resultsCache)));
        endpoints.MapMethods("/loki/api/v1/query", getPost, static context => Handle(context, InstantQueryAsync));
        endpoints.MapMethods("/api/prom/query", getPost, static context => Handle(context, LegacyQueryAsync));
        endpoints.MapMethods("/loki/api/v1/labels", getPost, static context => Handle(context, (c, q) => LabelsAsync(c, q, legacy: false)));
        endpoints.MapMethods("/loki/api/v1/label", getPost, static context => Handle(context, (c, q) => LabelsAsync(c, q, legacy: false)));
        endpoints.MapMethods("/api/prom/label", getPost, static context => Handle(context, (c, q) => LabelsAsync(c, q, legacy: true)));
        endpoints.MapMethods("/loki/api/v1/label/{name}/values", getPost, static context => Handle(context, (c, q) => LabelValuesAsync(c, q, legacy: false)));
        endpoints.MapMethods("/api/prom/label/{name}/values", getPost, static context => Handle(context, (c, q) => LabelValuesAsync(c, q, legacy: true)));
        endpoints.MapMethods("/loki/api/v1/series", getPost, static context => Handle(context, SeriesAsync));
        endpoints.MapMethods("/api/prom/series", getPost, static context => Handle(context, SeriesAsync));
        endpoints.MapMethods("/loki/api/v1/index/stats", getPost, static context => Handle(context, IndexStatsAsync));
        endpoints.MapMethods("/loki/api/v1/index/volume", getPost, static context => Handle(context, (c, q) => VolumeAsync(c, q, range: false)));
        endpoints.MapMethods("/loki/api/v1/index/volume_range", getPost, static context => Handle(context, (c, q) => VolumeAsync(c, q, range: true)));
    }

    /// <summary><c>format_query</c> needs no data; Loki serves it whatever the target.</summary>
    public static void MapFormatQueryEndpoint(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMethods("/loki/api/v1/format_query", ["GET", "POST"], static async context =>
        {
            string query;
            try
            {
                query = (await RequestParams.ReadAsync(context.Request).ConfigureAwait(false)).Get("query") ?? "";
            }
            catch (QueryRequestException e)
            {
                await PlainText.WriteAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
                return;
            }

            try
            {
                var formatted = LogQLParser.Parse(query).ToString();
                await WriteJsonAsync(context, 200, w => LokiJson.WriteFormattedQuery(w, formatted)).ConfigureAwait(false);
            }
            catch (LogQLParseException e)
            {
                await WriteJsonAsync(context, 400, w => LokiJson.WriteInvalidQuery(w, e.Message)).ConfigureAwait(false);
            }
        });
    }

    /// <summary>
    /// What every query handler needs: tenant, parameters, limits, the engines, and the request's memory budget
    /// (<c>max_query_memory_bytes</c>) and warnings (corrupt data skipped).
    /// </summary>
    internal sealed record QueryContext(string Tenant, RequestParams Params, LimitsConfig Limits, IReadOnlyList<ILogSource> Sources, long Now)
    {
        public LogQLParserOptions ParserOptions => new() { AllowEmptyMatchers = Limits.AllowEmptyMatchers };

        public QueryMemoryBudget Memory { get; } = new(Limits.MaxQueryMemoryBytes.Bytes);

        public QueryWarnings Warnings { get; init; } = new();
    }

    internal static async Task Handle(HttpContext context, Func<HttpContext, QueryContext, Task> handler)
    {
        var services = context.RequestServices;
        var tenancy = services.GetRequiredService<Tenancy>();
        var multiTenant = services.GetRequiredService<LokiConfig>().Querier.MultiTenantQueriesEnabled;
        var tenants = tenancy.ResolveRead(context.Request.Headers["X-Scope-OrgID"].ToString(), multiTenant, out var tenantError);
        if (tenants is null)
        {
            await PlainText.WriteAsync(context, tenantError.Status, tenantError.Message).ConfigureAwait(false);
            return;
        }

        var tenant = MultiTenantLogSource.Join(tenants);
        var limits = services.GetRequiredService<TenantLimitsSource>().LimitsFor(tenants);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        if (limits.QueryTimeout > TimeSpan.Zero)
        {
            timeout.CancelAfter(limits.QueryTimeout);
        }

        var original = context.RequestAborted;
        context.RequestAborted = timeout.Token;
        try
        {
            var parameters = await RequestParams.ReadAsync(context.Request).ConfigureAwait(false);
            var sources = services.GetRequiredService<IReadOnlyList<ILogSource>>();
            var warnings = new QueryWarnings();
            if (services.GetService<LokiSharp.Querier.Peers.PeerSet>() is { Configured: true } peers)
            {
                // Other ingesters' heads, after the local sources (the first is this process's head, if any).
                sources = [.. sources, .. peers.ForQuery(warnings, timeout.Token)];
            }

            if (tenants.Count > 1)
            {
                sources = [.. sources.Select(source => new MultiTenantLogSource(source, tenants))];
            }

            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
            await handler(context, new QueryContext(tenant, parameters, limits, sources, now) { Warnings = warnings }).ConfigureAwait(false);
        }
        catch (QueryRequestException e)
        {
            await PlainText.WriteAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
        }
        catch (LogQLParseException e)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status400BadRequest, e.Message).ConfigureAwait(false);
        }
        catch (QueryMemoryLimitException e)
        {
            // A limit the request's shape broke, as max_query_series and max_query_bytes_read are in Loki: 400.
            await TryWriteAsync(context, StatusCodes.Status400BadRequest, e.Message).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (original.IsCancellationRequested)
        {
            await TryWriteAsync(context, 499, "the request was cancelled by the client").ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await TryWriteAsync(context, StatusCodes.Status504GatewayTimeout,
                "request timed out, decrease the duration of the request or add more label matchers " +
                "(prefer exact match over regex match) to reduce the amount of data processed").ConfigureAwait(false);
        }
        finally
        {
            context.RequestAborted = original;
        }
    }

    private static async Task TryWriteAsync(HttpContext context, int status, string message)
    {
        if (!context.Response.HasStarted)
        {
            await PlainText.WriteAsync(context, status, message).ConfigureAwait(false);
        }
    }

    // query_range.cache_results with the embedded cache: Loki turns the embedded cache on by itself when no other
    // backend is configured, and LokiSharp has no other, so cache_results alone decides; zero bounds mean no cache.
    private static MetricResultsCache? CreateResultsCache(IServiceProvider services)
    {
        var settings = services.GetRequiredService<LokiConfig>().QueryRange;
        var embedded = settings.ResultsCache.Cache.EmbeddedCache;
        var limits = EmbeddedCacheLimits.FromConfig(embedded.MaxSizeMb, embedded.MaxSizeItems, embedded.Ttl);
        if (!settings.CacheResults || limits is null)
        {
            return null;
        }

        return new MetricResultsCache(limits, new CacheMetrics(services.GetRequiredService<IMetricFactory>(), CacheMetrics.ResultsCacheName));
    }

    private static async Task QueryRangeAsync(HttpContext context, QueryContext q, MetricResultsCache? resultsCache)
    {
        var query = q.Params.Get("query") ?? "";
        var bounds = RequestBounds.ParseOrdered(q.Params, q.Now);
        var limit = QueryParameters.ParseLimit(q.Params.Get("limit"));
        var direction = QueryParameters.ParseDirection(q.Params.Get("direction"));
        var step = bounds.ParseStep(q.Params);
        var interval = QueryParameters.ParseInterval(q.Params.Get("interval"));
        var expr = LogQLParser.Parse(query, q.ParserOptions);
        bounds.CheckLength(q.Limits.MaxQueryLength);
        bounds = bounds.ClampLookback(q.Limits.MaxQueryLookback, q.Now);
        if (expr is SampleExpr metric)
        {
            var config = context.RequestServices.GetRequiredService<LokiConfig>();
            bounds = bounds.AlignToStep(step, config.QueryRange.AlignQueriesWithStep, q.Limits.SplitQueriesByInterval.Ticks * 100);
            var cache = resultsCache is not null && !MetricResultsCache.BypassedBy(context.Request.Headers.CacheControl.ToString()) ? resultsCache : null;
            await EvaluateAsync(context, q, metric, MetricQueryParameters.Range(bounds.Start, bounds.End, step), cache).ConfigureAwait(false);
            return;
        }

        var (start, end) = bounds;
        var selector = (LogSelectorExpr)expr;
        QueryParameters.CheckEntriesLimit(limit, q.Limits.MaxEntriesLimitPerQuery);
        var extras = QueryParameters.ParseExtras(q.Params.Get("cursor"), q.Params.Get("context"), q.Params.Get("context_before"),
            q.Params.Get("context_after"), interval);
        var result = new LogQueryEngine(q.Sources, q.Memory, q.Warnings)
            .Select(new LogQuery(q.Tenant, selector, start, end, limit, direction) { Interval = interval, Extras = extras }, context.RequestAborted);
        var categorize = CategorizeLabels(context.Request);
        await WriteJsonAsync(context, 200, w => LokiJson.WriteStreams(w, result, categorize)).ConfigureAwait(false);
    }

    private static async Task InstantQueryAsync(HttpContext context, QueryContext q)
    {
        var query = q.Params.Get("query") ?? "";
        var time = QueryParameters.ParseTimestamp(q.Params.Get("time"), q.Now, "time");
        QueryParameters.ParseLimit(q.Params.Get("limit"));
        QueryParameters.ParseDirection(q.Params.Get("direction"));
        var expr = LogQLParser.Parse(query, q.ParserOptions);
        if (expr is not SampleExpr metric)
        {
            throw new QueryRequestException("log queries are not supported as an instant query type, please change your query to a range query type");
        }

        await EvaluateAsync(context, q, metric, MetricQueryParameters.Instant(time), cache: null).ConfigureAwait(false);
    }

    private static async Task EvaluateAsync(HttpContext context, QueryContext q, SampleExpr expr, MetricQueryParameters parameters, MetricResultsCache? cache)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var stats = new QueryStatistics();
        var evaluator = new MetricQueryEvaluator(new StoredSampleSource(q.Sources, q.Tenant, stats, q.Warnings, q.Memory),
            new MetricQueryLimits { MaxQuerySeries = q.Limits.MaxQuerySeries }, q.Memory);
        MetricResult result;
        try
        {
            if (cache is not null && MetricResultsCache.Caches(expr))
            {
                var step = parameters.StepNs;
                var generation = context.RequestServices.GetService<LokiSharp.Compactor.StoreCompactor>()?.DeleteRequests.Generation ?? 0;
                var request = RangeQueryRequest.For(q.Tenant, expr, parameters, q.Now, q.Limits.MaxCacheFreshnessPerQuery, q.Limits.SplitQueriesByInterval,
                    q.Limits.MaxQuerySeries, generation);
                var cancellation = context.RequestAborted;
                var warnings = q.Warnings;
                result = cache.Evaluate(request,
                    (from, through) => (MatrixResult)evaluator.Evaluate(expr, MetricQueryParameters.Range(from, through, step), cancellation),
                    stats.ResultCache, () => warnings.Count == 0);
            }
            else
            {
                result = evaluator.Evaluate(expr, parameters, context.RequestAborted);
            }
        }
        catch (MetricQueryException e)
        {
            throw new QueryRequestException(e.Message,
                e.Kind == MetricQueryErrorKind.Execution ? StatusCodes.Status500InternalServerError : StatusCodes.Status400BadRequest);
        }

        stats.ExecTimeSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        await WriteJsonAsync(context, 200, w => LokiJson.WriteMetric(w, result, stats, q.Warnings.ToList())).ConfigureAwait(false);
    }

    private static async Task LegacyQueryAsync(HttpContext context, QueryContext q)
    {
        var query = q.Params.Get("query") ?? "";
        var regexp = q.Params.Get("regexp");
        var bounds = RequestBounds.ParseOrdered(q.Params, q.Now);
        var limit = QueryParameters.ParseLimit(q.Params.Get("limit"));
        var direction = QueryParameters.ParseDirection(q.Params.Get("direction"));
        if (!string.IsNullOrEmpty(regexp))
        {
            query = LogQLParser.ParseLogSelector(query, q.ParserOptions) + " |~ " + GoString.Quote(regexp);
        }

        var expr = LogQLParser.Parse(query, q.ParserOptions);
        if (expr is not LogSelectorExpr selector)
        {
            throw new QueryRequestException("legacy endpoints only support streams result type");
        }

        bounds.CheckLength(q.Limits.MaxQueryLength);
        QueryParameters.CheckEntriesLimit(limit, q.Limits.MaxEntriesLimitPerQuery);
        var (start, end) = bounds.ClampLookback(q.Limits.MaxQueryLookback, q.Now);
        var result = new LogQueryEngine(q.Sources, q.Memory, q.Warnings)
            .Select(new LogQuery(q.Tenant, selector, start, end, limit, direction), context.RequestAborted);
        await WriteJsonAsync(context, 200, w => LokiJson.WriteLegacyStreams(w, result)).ConfigureAwait(false);
    }

    private static async Task LabelsAsync(HttpContext context, QueryContext q, bool legacy)
    {
        var bounds = RequestBounds.Parse(q.Params, q.Now);
        var matchers = Matchers(q, q.Params.Get("query"));
        var names = new MetadataQueries(q.Sources, q.Memory).LabelNames(q.Tenant, matchers, bounds.Start, bounds.Through);
        await WriteValuesAsync(context, names, legacy).ConfigureAwait(false);
    }

    private static async Task LabelValuesAsync(HttpContext context, QueryContext q, bool legacy)
    {
        var name = context.Request.RouteValues["name"] as string ?? "";
        var bounds = RequestBounds.Parse(q.Params, q.Now);
        var matchers = Matchers(q, q.Params.Get("query"));
        var values = new MetadataQueries(q.Sources, q.Memory).LabelValues(q.Tenant, name, matchers, bounds.Start, bounds.Through);
        await WriteValuesAsync(context, values, legacy).ConfigureAwait(false);
    }

    private static Task WriteValuesAsync(HttpContext context, List<string> values, bool legacy) =>
        WriteJsonAsync(context, 200, w => LokiJson.WriteLabelValues(w, values, legacy));

    private static async Task SeriesAsync(HttpContext context, QueryContext q)
    {
        var bounds = RequestBounds.Parse(q.Params, q.Now);
        var selectors = new List<IReadOnlyList<LabelMatcher>>();
        var match = q.Params.GetAll("match[]");
        match.AddRange(q.Params.GetAll("match"));
        foreach (var selector in match)
        {
            var matchers = LogQLParser.ParseMatchers(selector, new LogQLParserOptions { AllowEmptyMatchers = true }).Matchers;
            if (matchers.Count > 0)
            {
                selectors.Add(matchers);
            }
        }

        var series = new MetadataQueries(q.Sources, q.Memory).Series(q.Tenant, selectors, bounds.Start, bounds.Through);
        await WriteJsonAsync(context, 200, w => LokiJson.WriteSeries(w, series)).ConfigureAwait(false);
    }

    private static async Task IndexStatsAsync(HttpContext context, QueryContext q)
    {
        var bounds = RequestBounds.Parse(q.Params, q.Now);
        var matchers = Matchers(q, q.Params.Get("query"));
        var stats = new MetadataQueries(q.Sources, q.Memory).Stats(q.Tenant, matchers, bounds.Start, bounds.Through);
        await WriteJsonAsync(context, 200, w => LokiJson.WriteIndexStats(w, stats)).ConfigureAwait(false);
    }

    private static async Task VolumeAsync(HttpContext context, QueryContext q, bool range)
    {
        if (!q.Limits.VolumeEnabled)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status404NotFound, "not found").ConfigureAwait(false);
            return;
        }

        var bounds = RequestBounds.Parse(q.Params, q.Now);
        var query = q.Params.Get("query");
        if (string.IsNullOrEmpty(query))
        {
            throw new QueryRequestException("missing query parameter");
        }

        var limit = QueryParameters.ParseVolumeLimit(q.Params.Get("limit"));
        var aggregation = QueryParameters.ParseVolumeAggregation(q.Params.Get("aggregateBy"));
        var targets = (q.Params.Get("targetLabels") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var matchers = Matchers(q, query);
        var volumes = new MetadataQueries(q.Sources, q.Memory).Volume(q.Tenant, matchers, bounds.Start, bounds.Through, targets, aggregation, limit);
        await WriteJsonAsync(context, 200, w => LokiJson.WriteVolume(w, volumes, bounds.End, range)).ConfigureAwait(false);
    }

    private static IReadOnlyList<LabelMatcher> Matchers(QueryContext q, string? query) =>
        string.IsNullOrEmpty(query) ? [] : LogQLParser.ParseLogSelector(query, new LogQLParserOptions { AllowEmptyMatchers = true }).Matchers;

    internal static bool CategorizeLabels(HttpRequest request)
    {
        foreach (var header in request.Headers["X-Loki-Response-Encoding-Flags"])
        {
            foreach (var flag in (header ?? "").Split(',', StringSplitOptions.TrimEntries))
            {
                if (flag == "categorize-labels")
                {
                    return true;
                }
            }
        }

        return false;
    }

    internal static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = JsonContentType;
        await using (var writer = new Utf8JsonWriter(context.Response.BodyWriter, LokiJson.WriterOptions))
        {
            write(writer);
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
