using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Text;
using LokiSharp.Querier.Logs;

namespace LokiSharp.Querier.Responses;

/// <summary>Writes Loki's JSON response shapes (spec §4, §5) with a <see cref="Utf8JsonWriter"/>.</summary>
public static partial class LokiJson
{
    /// <summary>Writer options: no HTML escaping, like Loki's encoder.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A streams result: <c>{"status":"success","data":{"resultType":"streams",...}}</c>.</summary>
    public static void WriteStreams(Utf8JsonWriter writer, LogQueryResult result, bool categorizeLabels)
    {
        writer.WriteStartObject();
        writer.WriteString("status", "success");
        WriteWarnings(writer, result.Warnings.ToList());
        writer.WriteStartObject("data");
        writer.WriteString("resultType", "streams");
        if (categorizeLabels)
        {
            writer.WriteStartArray("encodingFlags");
            writer.WriteStringValue("categorize-labels");
            writer.WriteEndArray();
        }

        writer.WriteStartArray("result");
        foreach (var (labels, entries) in GroupStreams(result.Entries, categorizeLabels))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("stream");
            WriteLabelMap(writer, labels);
            writer.WriteStartArray("values");
            foreach (var entry in entries)
            {
                WriteValue(writer, entry, categorizeLabels);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();

        // LokiSharp's opt-in pagination: the token of the next page, null after the last.
        if (result.Paginated)
        {
            if (result.Next is { } next)
            {
                writer.WriteString("cursor", next.ToString());
            }
            else
            {
                writer.WriteNull("cursor");
            }
        }

        WriteStats(writer, result.Stats);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>A metric result: matrix, vector or scalar in Loki's envelope.</summary>
    public static void WriteMetric(Utf8JsonWriter writer, MetricResult result, QueryStatistics stats, IReadOnlyList<string> warnings)
    {
        writer.WriteStartObject();
        writer.WriteString("status", "success");
        WriteWarnings(writer, warnings);
        writer.WriteStartObject("data");
        writer.WriteString("resultType", result.TypeName);
        switch (result)
        {
            case MatrixResult matrix:
                writer.WriteStartArray("result");
                foreach (var series in matrix.Series)
                {
                    writer.WriteStartObject();
                    writer.WritePropertyName("metric");
                    WriteLabelMap(writer, series.Labels);
                    writer.WriteStartArray("values");
                    foreach (var point in series.Points)
                    {
                        WritePoint(writer, point.TimestampMs, point.Value);
                    }

                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                break;
            case VectorResult vector:
                writer.WriteStartArray("result");
                foreach (var sample in vector.Samples)
                {
                    writer.WriteStartObject();
                    writer.WritePropertyName("metric");
                    WriteLabelMap(writer, sample.Labels);
                    writer.WritePropertyName("value");
                    WritePoint(writer, sample.TimestampMs, sample.Value);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                break;
            case ScalarResult scalar:
                writer.WritePropertyName("result");
                WritePoint(writer, scalar.TimestampMs, scalar.Value);
                break;
        }

        WriteStats(writer, stats);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    // [<unix seconds with up to 3 decimals>, "<value>"], as Prometheus and Loki print points.
    private static void WritePoint(Utf8JsonWriter writer, long timestampMs, double value)
    {
        writer.WriteStartArray();
        writer.WriteRawValue(MetricValueFormat.FormatTimestamp(timestampMs), skipInputValidation: true);
        writer.WriteStringValue(MetricValueFormat.FormatValue(value));
        writer.WriteEndArray();
    }

    /// <summary>Legacy <c>/api/prom/query</c>: <c>{"streams":[{"labels":"{...}","entries":[{"ts","line"}]}],"stats":{...}}</c>.</summary>
    public static void WriteLegacyStreams(Utf8JsonWriter writer, LogQueryResult result)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("streams");
        foreach (var (labels, entries) in GroupStreams(result.Entries, categorizeLabels: false))
        {
            writer.WriteStartObject();
            writer.WriteString("labels", labels.ToString());
            writer.WriteStartArray("entries");
            foreach (var entry in entries)
            {
                writer.WriteStartObject();
                writer.WriteString("ts", GoTimestamp.FormatRfc3339Nano(entry.Timestamp));
                writer.WriteString("line", entry.Line);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        WriteStats(writer, result.Stats);
        writer.WriteEndObject();
    }

    /// <summary>
    /// One stream value: <c>["ns", "line"]</c>, or with categorized labels
    /// <c>["ns", "line", {"structuredMetadata":{...},"parsed":{...}}]</c> with empty parts left out.
    /// </summary>
    public static void WriteValue(Utf8JsonWriter writer, ResultEntry entry, bool categorizeLabels)
    {
        writer.WriteStartArray();
        writer.WriteStringValue(entry.Timestamp.ToString(CultureInfo.InvariantCulture));
        writer.WriteStringValue(entry.Line);
        if (categorizeLabels)
        {
            writer.WriteStartObject();
            if (entry.Labels.StructuredMetadata.Count > 0)
            {
                writer.WritePropertyName("structuredMetadata");
                WriteLabelMap(writer, entry.Labels.StructuredMetadata);
            }

            if (entry.Labels.Parsed.Count > 0)
            {
                writer.WritePropertyName("parsed");
                WriteLabelMap(writer, entry.Labels.Parsed);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    /// <summary><c>{"k":"v",...}</c> in label order.</summary>
    public static void WriteLabelMap(Utf8JsonWriter writer, LabelSet labels)
    {
        writer.WriteStartObject();
        foreach (var pair in labels)
        {
            writer.WriteString(pair.Name, pair.Value);
        }

        writer.WriteEndObject();
    }

    /// <summary>The optional <c>warnings</c> array, written only when there are warnings.</summary>
    public static void WriteWarnings(Utf8JsonWriter writer, IReadOnlyList<string> warnings)
    {
        if (warnings.Count == 0)
        {
            return;
        }

        writer.WriteStartArray("warnings");
        foreach (var warning in warnings)
        {
            writer.WriteStringValue(warning);
        }

        writer.WriteEndArray();
    }

    /// <summary>The <c>stats</c> object with Loki's keys, zeros included.</summary>
    public static void WriteStats(Utf8JsonWriter writer, QueryStatistics stats)
    {
        var exec = stats.ExecTimeSeconds;
        writer.WriteStartObject("stats");
        writer.WriteStartObject("summary");
        writer.WriteNumber("bytesProcessedPerSecond", exec > 0 ? (long)(stats.TotalBytesProcessed / exec) : 0);
        writer.WriteNumber("linesProcessedPerSecond", exec > 0 ? (long)(stats.TotalLinesProcessed / exec) : 0);
        writer.WriteNumber("totalBytesProcessed", stats.TotalBytesProcessed);
        writer.WriteNumber("totalLinesProcessed", stats.TotalLinesProcessed);
        writer.WriteNumber("execTime", exec);
        writer.WriteNumber("queueTime", 0);
        writer.WriteNumber("subqueries", 0);
        writer.WriteNumber("totalEntriesReturned", stats.EntriesReturned);
        writer.WriteNumber("splits", 0);
        writer.WriteNumber("shards", 0);
        writer.WriteNumber("totalPostFilterLines", stats.PostFilterLines);
        writer.WriteNumber("totalStructuredMetadataBytesProcessed", stats.TotalStructuredMetadataBytesProcessed);
        writer.WriteEndObject();

        writer.WriteStartObject("querier");
        WriteStoreStats(writer, stats, ingester: false);
        writer.WriteEndObject();
        writer.WriteStartObject("ingester");
        writer.WriteNumber("totalReached", 1);
        writer.WriteNumber("totalChunksMatched", 0);
        writer.WriteNumber("totalBatches", 0);
        writer.WriteNumber("totalLinesSent", stats.HeadChunkLines);
        WriteStoreStats(writer, stats, ingester: true);
        writer.WriteEndObject();

        writer.WriteStartObject("cache");
        foreach (var name in (string[])["chunk", "index", "result", "statsResult", "volumeResult", "seriesResult", "labelResult", "instantMetricResult"])
        {
            var cache = name == "result" ? stats.ResultCache : null;
            writer.WriteStartObject(name);
            writer.WriteNumber("entriesFound", cache?.EntriesFound ?? 0);
            writer.WriteNumber("entriesRequested", cache?.EntriesRequested ?? 0);
            writer.WriteNumber("entriesStored", cache?.EntriesStored ?? 0);
            writer.WriteNumber("bytesReceived", cache?.BytesReceived ?? 0);
            writer.WriteNumber("bytesSent", cache?.BytesSent ?? 0);
            writer.WriteNumber("requests", cache?.Requests ?? 0);
            writer.WriteNumber("downloadTime", 0);
            writer.WriteNumber("queryLengthServed", cache?.QueryLengthServed ?? 0);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteStartObject("index");
        writer.WriteNumber("totalChunks", stats.ChunksReferenced);
        writer.WriteNumber("postFilterChunks", stats.ChunksReferenced);
        writer.WriteNumber("shardsDuration", 0);
        writer.WriteBoolean("usedBloomFilters", false);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteStoreStats(Utf8JsonWriter writer, QueryStatistics stats, bool ingester)
    {
        writer.WriteStartObject("store");
        writer.WriteNumber("totalChunksRef", ingester ? 0 : stats.ChunksReferenced);
        writer.WriteNumber("totalChunksDownloaded", ingester ? 0 : stats.ChunksReferenced);
        writer.WriteNumber("chunksDownloadTime", 0);
        writer.WriteBoolean("queryReferencedStructuredMetadata", stats.TotalStructuredMetadataBytesProcessed > 0);
        writer.WriteStartObject("chunk");
        writer.WriteNumber("headChunkBytes", ingester ? stats.HeadChunkBytes : 0);
        writer.WriteNumber("headChunkLines", ingester ? stats.HeadChunkLines : 0);
        writer.WriteNumber("decompressedBytes", ingester ? 0 : stats.DecompressedBytes);
        writer.WriteNumber("decompressedLines", ingester ? 0 : stats.TotalLinesProcessed - stats.HeadChunkLines);
        writer.WriteNumber("compressedBytes", 0);
        writer.WriteNumber("totalDuplicates", stats.Duplicates);
        writer.WriteNumber("postFilterLines", stats.PostFilterLines);
        writer.WriteNumber("headChunkStructuredMetadataBytes", 0);
        writer.WriteNumber("decompressedStructuredMetadataBytes", 0);
        writer.WriteEndObject();
        writer.WriteNumber("chunkRefsFetchTime", 0);
        writer.WriteNumber("congestionControlLatency", 0);
        writer.WriteEndObject();
    }

    // Loki groups result entries into streams by their label string and sorts the streams by it.
    private static List<(LabelSet Labels, List<ResultEntry> Entries)> GroupStreams(List<ResultEntry> entries, bool categorizeLabels)
    {
        var groups = new Dictionary<LabelSet, List<ResultEntry>>();
        foreach (var entry in entries)
        {
            var key = categorizeLabels ? entry.Labels.Stream : entry.Labels.All;
            if (!groups.TryGetValue(key, out var list))
            {
                groups[key] = list = [];
            }

            list.Add(entry);
        }

        var result = new List<(LabelSet, List<ResultEntry>)>(groups.Count);
        foreach (var (labels, list) in groups)
        {
            result.Add((labels, list));
        }

        result.Sort(static (a, b) => string.CompareOrdinal(a.Item1.ToString(), b.Item1.ToString()));
        return result;
    }
}
