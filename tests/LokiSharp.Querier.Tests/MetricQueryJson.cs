using System.Buffers;
using System.Text;
using System.Text.Json;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Syntax;
using LokiSharp.Querier.Logs;
using LokiSharp.Querier.Responses;

namespace LokiSharp.Querier.Tests;

/// <summary>A metric query evaluated over a sample source and written as the query endpoints answer it, in Loki's JSON.</summary>
internal static class MetricQueryJson
{
    /// <summary>The whole response body (statistics included); the evaluator's errors propagate.</summary>
    public static string Of(ISampleSource source, QueryStatistics stats, string query, MetricQueryParameters parameters, MetricQueryLimits limits)
    {
        var result = new MetricQueryEvaluator(source, limits).Evaluate((SampleExpr)LogQLParser.Parse(query), parameters);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            LokiJson.WriteMetric(writer, result, stats, []);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The <c>data.result</c> part of a response body: the samples, without the statistics that vary run to run.</summary>
    public static string Result(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("data").GetProperty("result").GetRawText();
    }
}
