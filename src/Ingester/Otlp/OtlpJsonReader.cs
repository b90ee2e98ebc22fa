using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using LokiSharp.Ingester.Otlp.Protos;

namespace LokiSharp.Ingester.Otlp;

/// <summary>
/// Reads the OTLP/JSON encoding of a logs export. It is the proto3 JSON mapping (camelCase or original field
/// names, 64-bit integers as numbers or strings, enums as numbers or names), which Google.Protobuf's parser
/// reads, except that OTLP writes trace and span ids in hex rather than base64: those are rewritten first, as are
/// integers too large for a double (Google.Protobuf reads JSON numbers as doubles; as strings they stay exact).
/// Unknown fields are skipped, as the Collector does.
/// </summary>
public static class OtlpJsonReader
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    /// <summary>Parses <paramref name="json"/>; invalid UTF-8 and lone surrogate escapes in strings are read as U+FFFD.</summary>
    /// <exception cref="FormatException">The text is not an OTLP/JSON logs export.</exception>
    public static ExportLogsServiceRequest Read(ReadOnlySpan<byte> json)
    {
        try
        {
            return ReadDocument(json);
        }
        catch (ArgumentException e)
        {
            // A key given twice in one object, which the JSON model refuses.
            throw new FormatException(e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json reads invalid UTF-8 as U+FFFD but refuses lone surrogate escapes: replace them and retry.
            var repaired = Push.JsonStrings.ReplaceLoneSurrogateEscapes(json) ?? throw new FormatException(e.Message, e);
            try
            {
                return ReadDocument(repaired);
            }
            catch (Exception again) when (again is InvalidOperationException or ArgumentException)
            {
                throw new FormatException(again.Message, again);
            }
        }
    }

    private static ExportLogsServiceRequest ReadDocument(ReadOnlySpan<byte> json)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 128 });
        }
        catch (JsonException e)
        {
            throw new FormatException(e.Message, e);
        }

        if (root is not JsonObject request)
        {
            throw new FormatException("an OTLP/JSON logs export must be a JSON object");
        }

        QuoteLargeIntegers(request);
        foreach (var record in Children(request, "resourceLogs", "resource_logs")
                     .SelectMany(resource => Children(resource, "scopeLogs", "scope_logs"))
                     .SelectMany(scope => Children(scope, "logRecords", "log_records")))
        {
            HexToBase64(record, 16, "traceId", "trace_id");
            HexToBase64(record, 8, "spanId", "span_id");
        }

        try
        {
            return Parser.Parse<ExportLogsServiceRequest>(request.ToJsonString());
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new FormatException(e.Message, e);
        }
        catch (InvalidJsonException e)
        {
            throw new FormatException(e.Message, e);
        }
    }

    private static void QuoteLargeIntegers(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToList())
                {
                    if (LargeInteger(obj[name]) is { } text)
                    {
                        obj[name] = text;
                    }
                    else
                    {
                        QuoteLargeIntegers(obj[name]);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (LargeInteger(array[i]) is { } text)
                    {
                        array[i] = text;
                    }
                    else
                    {
                        QuoteLargeIntegers(array[i]);
                    }
                }

                break;
        }
    }

    // The text of an integer a double cannot hold exactly (beyond 2^53), else null.
    private static string? LargeInteger(JsonNode? node)
    {
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number)
        {
            return null;
        }

        var text = value.ToJsonString();
        var integral = !text.Contains('.', StringComparison.Ordinal) && !text.Contains('e', StringComparison.OrdinalIgnoreCase);
        return integral && Math.Abs(value.GetValue<double>()) >= 9007199254740992 ? text : null;
    }

    // The objects of a repeated field under either of its JSON names; a wrong shape is left for the parser to reject.
    private static IEnumerable<JsonObject> Children(JsonObject parent, string jsonName, string protoName)
    {
        var list = parent[jsonName] ?? parent[protoName];
        return list is JsonArray array ? array.OfType<JsonObject>() : [];
    }

    // OTLP/JSON writes ids in hex; an empty string means unset.
    private static void HexToBase64(JsonObject record, int size, string jsonName, string protoName)
    {
        var name = record.ContainsKey(jsonName) ? jsonName : protoName;
        if (record[name] is not JsonValue value || !value.TryGetValue<string>(out var text) || text.Length == 0)
        {
            return;
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            throw new FormatException($"{jsonName} is not hex: \"{text}\"");
        }

        if (bytes.Length != size)
        {
            throw new FormatException($"invalid {jsonName}: length mismatch, want {size} bytes, got {bytes.Length}");
        }

        record[name] = Convert.ToBase64String(bytes);
    }
}
