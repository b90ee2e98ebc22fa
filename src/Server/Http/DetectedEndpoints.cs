using System.Text.Json;
using LokiSharp.LogQL.Syntax;
using LokiSharp.Querier.Detected;
using LokiSharp.Querier.Patterns;
using LokiSharp.Querier.Requests;
using LokiSharp.Querier.Responses;
using LokiSharp.Server.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace LokiSharp.Server.Http;

/// <summary>Logs Drilldown's endpoints: <c>detected_labels</c>, <c>detected_fields</c>, <c>detected_field/{name}/values</c>, <c>patterns</c>.</summary>
internal static class DetectedEndpoints
{
    private const int DefaultFieldLimit = 1000;

    public static void MapDetectedEndpoints(this IEndpointRouteBuilder endpoints)
    {
        string[] getPost = ["GET", "POST"];
        endpoints.MapMethods("/loki/api/v1/detected_labels", getPost, static context => QueryEndpoints.Handle(context, DetectedLabelsAsync));
        endpoints.MapMethods("/loki/api/v1/detected_fields", getPost, static context => QueryEndpoints.Handle(context, (c, q) => DetectedFieldsAsync(c, q, null)));
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
        await QueryEndpoints.WriteJsonAsync(context, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("status", "success");
            LokiJson.WriteWarnings(w, q.Warnings.ToList());
            w.WriteStartArray("data");
            foreach (var pattern in patterns)
            {
                w.WriteStartObject();
                w.WriteString("pattern", pattern.Pattern);
                w.WriteString("level", pattern.Level);
                w.WriteStartArray("samples");
                foreach (var (seconds, count) in pattern.Samples)
                {
                    w.WriteStartArray();
                    w.WriteNumberValue(seconds);
                    w.WriteNumberValue(count);
                    w.WriteEndArray();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static async Task DetectedLabelsAsync(HttpContext context, QueryEndpoints.QueryContext q)
    {
        var bounds = RequestBounds.ParseOrdered(q.Params, q.Now);

        var query = q.Params.Get("query");
        var matchers = string.IsNullOrEmpty(query) ? [] : LogQLParser.ParseMatchers(query, new LogQLParserOptions { AllowEmptyMatchers = true }).Matchers;
        var labels = new DetectedLabelsQuery(q.Sources, q.Memory).Labels(q.Tenant, matchers, bounds.Start, bounds.Through);
        await QueryEndpoints.WriteJsonAsync(context, 200, w =>
        {
            w.WriteStartObject();
            if (labels.Count > 0)
            {
                w.WriteStartArray("detectedLabels");
                foreach (var label in labels)
                {
                    w.WriteStartObject();
                    w.WriteString("label", label.Label);
                    w.WriteNumber("cardinality", label.Cardinality);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }).ConfigureAwait(false);
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
            await QueryEndpoints.WriteJsonAsync(context, 200, w =>
            {
                w.WriteStartObject();
                if (values.Count > 0)
                {
                    w.WriteStartArray("values");
                    foreach (var value in values)
                    {
                        w.WriteStringValue(value);
                    }

                    w.WriteEndArray();
                    w.WriteNumber("limit", limit);
                }

                LokiJson.WriteWarnings(w, q.Warnings.ToList());
                w.WriteEndObject();
            }).ConfigureAwait(false);
            return;
        }

        var fields = detected.Fields(q.Tenant, selector, bounds.Start, bounds.End, lineLimit, limit, context.RequestAborted);
        await QueryEndpoints.WriteJsonAsync(context, 200, w => WriteFields(w, fields, limit, q.Warnings.ToList())).ConfigureAwait(false);
    }

    // {"fields":[...],"limit":N}, or {} when nothing was found (Loki omits both then); LokiSharp's "warnings" when
    // corrupt data was skipped.
    private static void WriteFields(Utf8JsonWriter w, List<DetectedField> fields, int limit, IReadOnlyList<string> warnings)
    {
        w.WriteStartObject();
        if (fields.Count > 0)
        {
            w.WriteStartArray("fields");
            foreach (var field in fields)
            {
                w.WriteStartObject();
                w.WriteString("label", field.Label);
                w.WriteString("type", field.Type);
                w.WriteNumber("cardinality", field.Cardinality);
                if (field.Parsers is null)
                {
                    // Grafana tells structured metadata from parsed fields by this null.
                    w.WriteNull("parsers");
                }
                else
                {
                    w.WriteStartArray("parsers");
                    foreach (var parser in field.Parsers)
                    {
                        w.WriteStringValue(parser);
                    }

                    w.WriteEndArray();
                }

                if (field.JsonPath is { Count: > 0 })
                {
                    w.WriteStartArray("jsonPath");
                    foreach (var part in field.JsonPath)
                    {
                        w.WriteStringValue(part);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("limit", limit);
        }

        LokiJson.WriteWarnings(w, warnings);
        w.WriteEndObject();
    }
}
