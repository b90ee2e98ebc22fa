using System.Globalization;
using System.Text.Json;
using LokiSharp.LogQL.Labels;
using LokiSharp.Querier.Logs;
using LokiSharp.Storage.Index;

namespace LokiSharp.Querier.Responses;

/// <summary>The metadata endpoints' shapes: label names and values, series, index stats, volume, format_query.</summary>
public static partial class LokiJson
{
    /// <summary>
    /// Label names or values: <c>{"status":"success","data":[...]}</c>, or legacy <c>{"values":[...]}</c>; the array
    /// is left out when empty, as Loki does.
    /// </summary>
    public static void WriteLabelValues(Utf8JsonWriter w, List<string> values, bool legacy)
    {
        w.WriteStartObject();
        if (!legacy)
        {
            w.WriteString("status", "success");
        }

        // Loki omits the array when it is empty.
        if (values.Count > 0)
        {
            w.WriteStartArray(legacy ? "values" : "data");
            foreach (var value in values)
            {
                w.WriteStringValue(value);
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    /// <summary>Series: <c>{"status":"success","data":[{label map},...]}</c>.</summary>
    public static void WriteSeries(Utf8JsonWriter w, List<LabelSet> series)
    {
        w.WriteStartObject();
        w.WriteString("status", "success");
        w.WriteStartArray("data");
        foreach (var labels in series)
        {
            WriteLabelMap(w, labels);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Index stats: <c>{"streams":N,"chunks":N,"bytes":N,"entries":N}</c>.</summary>
    public static void WriteIndexStats(Utf8JsonWriter w, IndexStats stats)
    {
        w.WriteStartObject();
        w.WriteNumber("streams", stats.Streams);
        w.WriteNumber("chunks", stats.Chunks);
        w.WriteNumber("bytes", stats.Bytes);
        w.WriteNumber("entries", stats.Entries);
        w.WriteEndObject();
    }

    /// <summary>
    /// Volume as a Prometheus vector (<c>index/volume</c>) or matrix (<c>index/volume_range</c>): one point per
    /// series or label group at the request's end (Unix ns), its bytes as the value, and zero stats.
    /// </summary>
    public static void WriteVolume(Utf8JsonWriter w, List<(LabelSet Metric, long Bytes)> volumes, long endNs, bool range)
    {
        var timestamp = endNs / 1e9;
        w.WriteStartObject();
        w.WriteString("status", "success");
        w.WriteStartObject("data");
        w.WriteString("resultType", range ? "matrix" : "vector");
        w.WriteStartArray("result");
        foreach (var (metric, bytes) in volumes)
        {
            w.WriteStartObject();
            w.WritePropertyName("metric");
            WriteLabelMap(w, metric);
            w.WriteStartArray(range ? "values" : "value");
            if (range)
            {
                w.WriteStartArray();
            }

            w.WriteNumberValue(Math.Round(timestamp, 3));
            w.WriteStringValue(bytes.ToString(CultureInfo.InvariantCulture));
            if (range)
            {
                w.WriteEndArray();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        WriteStats(w, new QueryStatistics());
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>format_query's answer: <c>{"status":"success","data":"..."}</c>.</summary>
    public static void WriteFormattedQuery(Utf8JsonWriter w, string formatted)
    {
        w.WriteStartObject();
        w.WriteString("status", "success");
        w.WriteString("data", formatted);
        w.WriteEndObject();
    }

    /// <summary>format_query's refusal of a query that does not parse: <c>{"status":"invalid-query","error":"..."}</c>.</summary>
    public static void WriteInvalidQuery(Utf8JsonWriter w, string error)
    {
        w.WriteStartObject();
        w.WriteString("status", "invalid-query");
        w.WriteString("error", error);
        w.WriteEndObject();
    }
}
