using System.Globalization;
using System.Text.Json;
using LokiSharp.LogQL.Text;
using LokiSharp.Querier.Responses;

namespace LokiSharp.Querier.Tail;

/// <summary>Writes tail frames in the v1 shape and in the legacy <c>/api/prom/tail</c> shape.</summary>
public static class TailJson
{
    /// <summary>
    /// <c>{"streams":[{"stream":{...},"values":[["ns","line"]]}],"dropped_entries":[...],"encodingFlags":[...]}</c>,
    /// one stream object per entry as Loki sends them; <c>dropped_entries</c> only when something was dropped, and
    /// LokiSharp's <c>warnings</c> only when the history skipped corrupt data.
    /// </summary>
    public static void WriteFrame(Utf8JsonWriter writer, TailFrame frame, bool categorizeLabels)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("streams");
        foreach (var entry in frame.Entries)
        {
            writer.WriteStartObject();
            writer.WritePropertyName("stream");
            LokiJson.WriteLabelMap(writer, categorizeLabels ? entry.Labels.Stream : entry.Labels.All);
            writer.WriteStartArray("values");
            LokiJson.WriteValue(writer, entry, categorizeLabels);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        if (frame.Dropped.Count > 0)
        {
            writer.WriteStartArray("dropped_entries");
            foreach (var dropped in frame.Dropped)
            {
                writer.WriteStartObject();
                writer.WriteString("timestamp", dropped.Timestamp.ToString(CultureInfo.InvariantCulture));
                writer.WritePropertyName("labels");
                LokiJson.WriteLabelMap(writer, dropped.Labels);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        if (categorizeLabels)
        {
            writer.WriteStartArray("encodingFlags");
            writer.WriteStringValue("categorize-labels");
            writer.WriteEndArray();
        }

        LokiJson.WriteWarnings(writer, frame.Warnings ?? []);
        writer.WriteEndObject();
    }

    /// <summary>
    /// Legacy frames: <c>{"streams":[{"labels":"{...}","entries":[{"ts":"RFC3339Nano","line":"..."}]}],
    /// "dropped_entries":[{"Timestamp":"RFC3339Nano","Labels":"{...}"}]}</c>, <c>null</c> when nothing was dropped.
    /// </summary>
    public static void WriteLegacyFrame(Utf8JsonWriter writer, TailFrame frame)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("streams");
        foreach (var entry in frame.Entries)
        {
            writer.WriteStartObject();
            writer.WriteString("labels", entry.Labels.All.ToString());
            writer.WriteStartArray("entries");
            writer.WriteStartObject();
            writer.WriteString("ts", GoTimestamp.FormatRfc3339Nano(entry.Timestamp));
            writer.WriteString("line", entry.Line);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        if (frame.Dropped.Count == 0)
        {
            writer.WriteNull("dropped_entries");
        }
        else
        {
            writer.WriteStartArray("dropped_entries");
            foreach (var dropped in frame.Dropped)
            {
                writer.WriteStartObject();
                writer.WriteString("Timestamp", GoTimestamp.FormatRfc3339Nano(dropped.Timestamp));
                writer.WriteString("Labels", dropped.Labels.ToString());
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }
}
