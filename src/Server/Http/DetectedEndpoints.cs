using LokiSharp.LogQL.Syntax;
using LokiSharp.Querier.Detected;
using LokiSharp.Querier.Patterns;
using LokiSharp.Querier.Requests;
using LokiSharp.Querier.Responses;
using LokiSharp.Server.Configuration;

namespace LokiSharp.Server.Http;

/// <summary>Logs Drilldown's endpoints: <c>detected_labels</c>, <c>detected_fields</c>, <c>detected_field/{name}/values</c>, <c>patterns</c>.</summary>
internal static class DetectedEndpoints
{
    private const int DefaultFieldLimit = 1000;

    public static void MapDetectedEndpoints(this IEndpointRouteBuilder endpoints)
    {
        string[] getPost = ["GET", "POST"];
        endpoints.MapMethods("/loki/api/v1/detected_labels", getPost, static context => QueryEndpoints.Handle(context, DetectedLabelsAsync));
        endpoints.MapMethods("/loki/api/v1/detected_fields", getPost,
            static context => QueryEndpoints.Handle(context, (c, q) => DetectedFieldsAsync(c, q, null)));
        endpoints.MapMethods("/loki/api/v1/detected_field/{name}/values", getPost,
            static context => QueryEndpoints.Handle(context, (c, q) => DetectedFieldsAsync(c, q, c.Request.RouteValues["name"] as string ?? "")));
        endpoints.MapMethods("/loki/api/v1/patterns", getPost, static context => QueryEndpoints.Handle(context, PatternsAsync));
    }

    private static async Task PatternsAsync(HttpContext context, QueryEndpoints.QueryContext q)
    {
        // Loki answers 404 with an empty body when its pattern ingester is off; Logs Drilldown reads that.
        if (!context.RequestServices.GetRequiredService<LokiConfig>().PatternIngester.Enabled)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var bounds = RequestBounds.ParseOrdered(q.Params, q.Now);
        var step = bounds.ParseStep(q.Params);
        var selector = LogQLParser.ParseLogSelector(q.Params.Get("query") ?? "", q.ParserOptions);
        var patterns = new PatternsQuery(q.Sources, q.Memory, q.Warnings).Patterns(q.Tenant, selector, bounds.Start, bounds.End, step, context.RequestAborted);
        await QueryEndpoints.WriteJsonAsync(context, 200, w => LokiJson.WritePatterns(w, patterns, q.Warnings.ToList())).ConfigureAwait(false);
    }

    private static async Task DetectedLabelsAsync(HttpContext context, QueryEndpoints.QueryContext q)
    {
        var bounds = RequestBounds.ParseOrdered(q.Params, q.Now);

        var query = q.Params.Get("query");
        var matchers = string.IsNullOrEmpty(query) ? [] : LogQLParser.ParseMatchers(query, new LogQLParserOptions { AllowEmptyMatchers = true }).Matchers;
        var labels = new DetectedLabelsQuery(q.Sources, q.Memory).Labels(q.Tenant, matchers, bounds.Start, bounds.Through);
        await QueryEndpoints.WriteJsonAsync(context, 200, w => LokiJson.WriteDetectedLabels(w, labels)).ConfigureAwait(false);
    }

    private static async Task DetectedFieldsAsync(HttpContext context, QueryEndpoints.QueryContext q, string? valuesOf)
    {
        var bounds = RequestBounds.ParseOrdered(q.Params, q.Now);

        var lineLimit = QueryParameters.ParseLimit(q.Params.Get("line_limit"));
        var limitText = q.Params.Get("limit");
        var limit = QueryParameters.ParseLimit(string.IsNullOrEmpty(limitText) ? q.Params.Get("field_limit") : limitText, DefaultFieldLimit);
        bounds.ParseStep(q.Params);
        var selector = LogQLParser.ParseLogSelector(q.Params.Get("query") ?? "", q.ParserOptions);
        QueryParameters.CheckEntriesLimit(lineLimit, q.Limits.MaxEntriesLimitPerQuery);
        var detected = new DetectedFieldsQuery(q.Sources, q.Memory, q.Warnings);
        if (valuesOf is not null)
        {
            var values = detected.Values(q.Tenant, selector, bounds.Start, bounds.End, lineLimit, valuesOf, limit, context.RequestAborted);
            await QueryEndpoints.WriteJsonAsync(context, 200,
                w => LokiJson.WriteDetectedFieldValues(w, values, limit, q.Warnings.ToList())).ConfigureAwait(false);
            return;
        }

        var fields = detected.Fields(q.Tenant, selector, bounds.Start, bounds.End, lineLimit, limit, context.RequestAborted);
        await QueryEndpoints.WriteJsonAsync(context, 200, w => LokiJson.WriteDetectedFields(w, fields, limit, q.Warnings.ToList())).ConfigureAwait(false);
    }
}
