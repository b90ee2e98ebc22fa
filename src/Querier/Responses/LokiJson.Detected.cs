using System.Text.Json;
using LokiSharp.Querier.Detected;
using LokiSharp.Querier.Patterns;

namespace LokiSharp.Querier.Responses;

/// <summary>Logs Drilldown's shapes: patterns, detected labels, detected fields and a field's values.</summary>
public static partial class LokiJson
{
    /// <summary>Patterns: <c>{"status":"success","data":[{"pattern","level","samples":[[s,n],...]}]}</c>, warnings when any.</summary>
    public static void WritePatterns(Utf8JsonWriter w, List<MinedPattern> patterns, IReadOnlyList<string> warnings)
    {
        w.WriteStartObject();
        w.WriteString("status", "success");
        WriteWarnings(w, warnings);
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
    }

    /// <summary>Detected labels: <c>{"detectedLabels":[{"label","cardinality"}]}</c>, or <c>{}</c> when none.</summary>
    public static void WriteDetectedLabels(Utf8JsonWriter w, List<DetectedLabel> labels)
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
    }

    /// <summary>A detected field's values: <c>{"values":[...],"limit":N}</c>, or <c>{}</c> when none; warnings when any.</summary>
    public static void WriteDetectedFieldValues(Utf8JsonWriter w, List<string> values, int limit, IReadOnlyList<string> warnings)
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

        WriteWarnings(w, warnings);
        w.WriteEndObject();
    }

    /// <summary>
    /// Detected fields: <c>{"fields":[...],"limit":N}</c>, or <c>{}</c> when nothing was found (Loki omits both then);
    /// LokiSharp's <c>warnings</c> when corrupt data was skipped.
    /// </summary>
    public static void WriteDetectedFields(Utf8JsonWriter w, List<DetectedField> fields, int limit, IReadOnlyList<string> warnings)
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

        WriteWarnings(w, warnings);
        w.WriteEndObject();
    }
}
