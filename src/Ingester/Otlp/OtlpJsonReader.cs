using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Collections;
using LokiSharp.Ingester.Otlp.Protos;

namespace LokiSharp.Ingester.Otlp;

/// <summary>
/// Reads the OTLP/JSON encoding of a logs export: the proto3 JSON mapping with OTLP's exceptions — trace and
/// span ids in hex rather than base64, enums as numbers or names — accepting camelCase and snake_case field
/// names, 64-bit integers as numbers or strings, and skipping unknown fields, as the Collector does.
/// </summary>
public static class OtlpJsonReader
{
    /// <summary>Parses <paramref name="json"/>.</summary>
    /// <exception cref="FormatException">The text is not an OTLP/JSON logs export.</exception>
    public static ExportLogsServiceRequest Read(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 128 });
        var request = new ExportLogsServiceRequest();
        try
        {
            if (!reader.Read())
            {
                throw new FormatException("empty OTLP/JSON body");
            }

            ReadObject(ref reader, "ExportLogsServiceRequest");
            while (NextField(ref reader, out var name))
            {
                switch (name)
                {
                    case "resourceLogs" or "resource_logs":
                        ReadList(ref reader, request.ResourceLogs, ReadResourceLogs);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (reader.Read())
            {
                throw new FormatException("unexpected data after the top-level object");
            }
        }
        catch (JsonException e)
        {
            throw new FormatException(e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            throw new FormatException(e.Message, e);
        }

        return request;
    }

    private delegate T ItemReader<out T>(ref Utf8JsonReader reader);

    private static ResourceLogs ReadResourceLogs(ref Utf8JsonReader reader)
    {
        var result = new ResourceLogs();
        ReadObject(ref reader, "ResourceLogs");
        while (NextField(ref reader, out var name))
        {
            switch (name)
            {
                case "resource":
                    result.Resource = ReadResource(ref reader);
                    break;
                case "scopeLogs" or "scope_logs":
                    ReadList(ref reader, result.ScopeLogs, ReadScopeLogs);
                    break;
                case "schemaUrl" or "schema_url":
                    result.SchemaUrl = ReadString(ref reader);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return result;
    }

    private static Resource ReadResource(ref Utf8JsonReader reader)
    {
        var result = new Resource();
        ReadObject(ref reader, "Resource");
        while (NextField(ref reader, out var name))
        {
            switch (name)
            {
                case "attributes":
                    ReadList(ref reader, result.Attributes, ReadKeyValue);
                    break;
                case "droppedAttributesCount" or "dropped_attributes_count":
                    result.DroppedAttributesCount = ReadUInt32(ref reader);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return result;
    }

    private static ScopeLogs ReadScopeLogs(ref Utf8JsonReader reader)
    {
        var result = new ScopeLogs();
        ReadObject(ref reader, "ScopeLogs");
        while (NextField(ref reader, out var name))
        {
            switch (name)
            {
                case "scope":
                    result.Scope = ReadScope(ref reader);
                    break;
                case "logRecords" or "log_records":
                    ReadList(ref reader, result.LogRecords, ReadLogRecord);
                    break;
                case "schemaUrl" or "schema_url":
                    result.SchemaUrl = ReadString(ref reader);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return result;
    }

    private static InstrumentationScope ReadScope(ref Utf8JsonReader reader)
    {
        var result = new InstrumentationScope();
        ReadObject(ref reader, "InstrumentationScope");
        while (NextField(ref reader, out var name))
        {
            switch (name)
            {
                case "name":
                    result.Name = ReadString(ref reader);
                    break;
                case "version":
                    result.Version = ReadString(ref reader);
                    break;
                case "attributes":
                    ReadList(ref reader, result.Attributes, ReadKeyValue);
                    break;
                case "droppedAttributesCount" or "dropped_attributes_count":
                    result.DroppedAttributesCount = ReadUInt32(ref reader);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return result;
    }

    private static LogRecord ReadLogRecord(ref Utf8JsonReader reader)
    {
        var result = new LogRecord();
        ReadObject(ref reader, "LogRecord");
        while (NextField(ref reader, out var name))
        {
            switch (name)
            {
                case "timeUnixNano" or "time_unix_nano":
                    result.TimeUnixNano = ReadUInt64(ref reader);
                    break;
                case "observedTimeUnixNano" or "observed_time_unix_nano":
                    result.ObservedTimeUnixNano = ReadUInt64(ref reader);
                    break;
                case "severityNumber" or "severity_number":
                    result.SeverityNumber = ReadSeverity(ref reader);
                    break;
                case "severityText" or "severity_text":
                    result.SeverityText = ReadString(ref reader);
                    break;
                case "body":
                    result.Body = ReadAnyValue(ref reader);
                    break;
                case "attributes":
                    ReadList(ref reader, result.Attributes, ReadKeyValue);
                    break;
                case "droppedAttributesCount" or "dropped_attributes_count":
                    result.DroppedAttributesCount = ReadUInt32(ref reader);
                    break;
                case "flags":
                    result.Flags = ReadUInt32(ref reader);
                    break;
                case "traceId" or "trace_id":
                    result.TraceId = ReadHexId(ref reader, 16, "traceId");
                    break;
                case "spanId" or "span_id":
                    result.SpanId = ReadHexId(ref reader, 8, "spanId");
                    break;
                case "eventName" or "event_name":
                    result.EventName = ReadString(ref reader);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return result;
    }

    private static KeyValue ReadKeyValue(ref Utf8JsonReader reader)
    {
        var result = new KeyValue();
        ReadObject(ref reader, "KeyValue");
        while (NextField(ref reader, out var name))
        {
            switch (name)
            {
                case "key":
                    result.Key = ReadString(ref reader);
                    break;
                case "value":
                    result.Value = ReadAnyValue(ref reader);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return result;
    }

    private static AnyValue ReadAnyValue(ref Utf8JsonReader reader)
    {
        var result = new AnyValue();
        ReadObject(ref reader, "AnyValue");
        while (NextField(ref reader, out var name))
        {
            switch (name)
            {
                case "stringValue" or "string_value":
                    result.StringValue = ReadString(ref reader);
                    break;
                case "boolValue" or "bool_value":
                    result.BoolValue = ReadBool(ref reader);
                    break;
                case "intValue" or "int_value":
                    result.IntValue = ReadInt64(ref reader);
                    break;
                case "doubleValue" or "double_value":
                    result.DoubleValue = ReadDouble(ref reader);
                    break;
                case "bytesValue" or "bytes_value":
                    result.BytesValue = ReadBase64(ref reader);
                    break;
                case "arrayValue" or "array_value":
                    var array = new ArrayValue();
                    ReadValues(ref reader, array.Values, ReadAnyValue);
                    result.ArrayValue = array;
                    break;
                case "kvlistValue" or "kvlist_value":
                    var map = new KeyValueList();
                    ReadValues(ref reader, map.Values, ReadKeyValue);
                    result.KvlistValue = map;
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return result;
    }

    // ArrayValue and KeyValueList are objects with one "values" list.
    private static void ReadValues<T>(ref Utf8JsonReader reader, RepeatedField<T> into, ItemReader<T> item)
    {
        ReadObject(ref reader, "values list");
        while (NextField(ref reader, out var name))
        {
            if (name == "values")
            {
                ReadList(ref reader, into, item);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void ReadObject(ref Utf8JsonReader reader, string what)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FormatException($"{what}: expected an object, found {Describe(reader.TokenType)}");
        }
    }

    // Moves to the next field's value; false at the end of the object. Null values count as absent.
    private static bool NextField(ref Utf8JsonReader reader, out string name)
    {
        while (true)
        {
            Advance(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                name = "";
                return false;
            }

            name = reader.GetString()!;
            Advance(ref reader);
            if (reader.TokenType != JsonTokenType.Null)
            {
                return true;
            }
        }
    }

    private static void ReadList<T>(ref Utf8JsonReader reader, RepeatedField<T> into, ItemReader<T> item)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new FormatException($"expected an array, found {Describe(reader.TokenType)}");
        }

        while (true)
        {
            Advance(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return;
            }

            into.Add(item(ref reader));
        }
    }

    private static void Advance(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new FormatException("unexpected end of JSON input");
        }
    }

    private static string ReadString(ref Utf8JsonReader reader) => reader.TokenType == JsonTokenType.String
        ? reader.GetString()!
        : throw new FormatException($"expected a string, found {Describe(reader.TokenType)}");

    private static bool ReadBool(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw new FormatException($"expected a boolean, found {Describe(reader.TokenType)}"),
    };

    private static long ReadInt64(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number))
        {
            return number;
        }

        if (reader.TokenType == JsonTokenType.String && long.TryParse(reader.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number))
        {
            return number;
        }

        throw new FormatException($"expected a 64-bit integer, found {Describe(reader.TokenType)}");
    }

    private static ulong ReadUInt64(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out var number))
        {
            return number;
        }

        if (reader.TokenType == JsonTokenType.String && ulong.TryParse(reader.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out number))
        {
            return number;
        }

        throw new FormatException($"expected an unsigned 64-bit integer, found {Describe(reader.TokenType)}");
    }

    private static uint ReadUInt32(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetUInt32(out var number))
        {
            return number;
        }

        if (reader.TokenType == JsonTokenType.String && uint.TryParse(reader.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out number))
        {
            return number;
        }

        throw new FormatException($"expected an unsigned 32-bit integer, found {Describe(reader.TokenType)}");
    }

    private static double ReadDouble(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.GetDouble();
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            var text = reader.GetString();
            switch (text)
            {
                case "NaN":
                    return double.NaN;
                case "Infinity":
                    return double.PositiveInfinity;
                case "-Infinity":
                    return double.NegativeInfinity;
            }

            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return number;
            }
        }

        throw new FormatException($"expected a number, found {Describe(reader.TokenType)}");
    }

    private static SeverityNumber ReadSeverity(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number))
        {
            return (SeverityNumber)number;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            var text = reader.GetString()!;
            var named = LogsReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.EnumDescriptor>("SeverityNumber").FindValueByName(text);
            if (named is not null)
            {
                return (SeverityNumber)named.Number;
            }

            if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number))
            {
                return (SeverityNumber)number;
            }

            throw new FormatException($"unknown severityNumber \"{text}\"");
        }

        throw new FormatException($"expected a severity number, found {Describe(reader.TokenType)}");
    }

    private static ByteString ReadBase64(ref Utf8JsonReader reader)
    {
        var text = ReadString(ref reader);
        try
        {
            return ByteString.FromBase64(text);
        }
        catch (FormatException)
        {
            throw new FormatException("bytesValue is not valid base64");
        }
    }

    // OTLP/JSON writes ids in hex; an empty string means unset.
    private static ByteString ReadHexId(ref Utf8JsonReader reader, int size, string field)
    {
        var text = ReadString(ref reader);
        if (text.Length == 0)
        {
            return ByteString.Empty;
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            throw new FormatException($"{field} is not hex: \"{text}\"");
        }

        if (bytes.Length != size)
        {
            throw new FormatException($"invalid {field}: length mismatch, want {size} bytes, got {bytes.Length}");
        }

        return ByteString.CopyFrom(bytes);
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}
