using System.Globalization;
using System.Text;
using System.Text.Json;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Text;

namespace LokiSharp.Ingester.Push;

/// <summary>
/// Decodes Loki's JSON push bodies into a <see cref="PushBatch"/>: the v1 form
/// (<c>{"streams":[{"stream":{...},"values":[["ns","line",{metadata}]]}]}</c>) and the legacy
/// <c>/api/prom/push</c> form (<c>{"streams":[{"labels":"{...}","entries":[{"ts":"RFC3339","line":"..."}]}]}</c>).
/// </summary>
public static class JsonPushDecoder
{
    /// <summary>Decodes a v1 JSON push body.</summary>
    public static void Decode(ReadOnlySpan<byte> json, PushBatch batch) => Run(json, batch, legacy: false);

    /// <summary>Decodes a legacy <c>/api/prom/push</c> JSON body.</summary>
    public static void DecodeLegacy(ReadOnlySpan<byte> json, PushBatch batch) => Run(json, batch, legacy: true);

    private static void Run(ReadOnlySpan<byte> json, PushBatch batch, bool legacy)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
        try
        {
            Expect(ref reader, JsonTokenType.StartObject, "a push request must be a JSON object");
            while (Read(ref reader) && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("streams"u8))
                {
                    Read(ref reader);
                    if (reader.TokenType == JsonTokenType.Null)
                    {
                        continue;
                    }

                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        throw Malformed("\"streams\" must be an array");
                    }

                    while (Read(ref reader) && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (legacy)
                        {
                            ReadLegacyStream(ref reader, batch);
                        }
                        else
                        {
                            ReadStream(ref reader, batch);
                        }
                    }
                }
                else
                {
                    Read(ref reader);
                    reader.Skip();
                }
            }
        }
        catch (JsonException e)
        {
            throw Malformed(e.Message);
        }
        catch (InvalidOperationException e)
        {
            // The reader's answer to asking a token for what it is not: a body of the wrong shape, not a server fault.
            throw Malformed(e.Message);
        }
    }

    private static void ReadStream(ref Utf8JsonReader reader, PushBatch batch)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Malformed("each stream must be an object");
        }

        // "stream" usually precedes "values" but JSON objects are unordered: remember where values start.
        var labels = "";
        var values = default(Utf8JsonReader);
        var hasValues = false;
        while (Read(ref reader) && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("stream"u8) || reader.ValueTextEquals("labels"u8))
            {
                Read(ref reader);
                labels = reader.TokenType == JsonTokenType.Null ? "" : ReadLabelMap(ref reader);
            }
            else if (reader.ValueTextEquals("values"u8))
            {
                Read(ref reader);
                values = reader;
                hasValues = true;
                reader.Skip();
            }
            else
            {
                Read(ref reader);
                reader.Skip();
            }
        }

        batch.BeginStream(labels);
        if (!hasValues || values.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (values.TokenType != JsonTokenType.StartArray)
        {
            throw Malformed("\"values\" must be an array of [timestamp, line] arrays");
        }

        while (Read(ref values) && values.TokenType != JsonTokenType.EndArray)
        {
            ReadValue(ref values, batch);
        }
    }

    private static void ReadValue(ref Utf8JsonReader reader, PushBatch batch)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Malformed("each value must be an array [\"<unix ns>\", \"<line>\"]");
        }

        Read(ref reader);
        if (reader.TokenType != JsonTokenType.String)
        {
            // The text clients see from Loki's JSON decoder when the timestamp is not a string.
            throw Malformed("timestamp must be a string of Unix nanoseconds: Value is string, but can't find closing '\"' symbol");
        }

        var timestampText = Text(ref reader);
        if (!long.TryParse(timestampText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var timestamp))
        {
            throw Malformed($"cannot parse timestamp \"{timestampText}\" as Unix nanoseconds");
        }

        Read(ref reader);
        if (reader.TokenType != JsonTokenType.String)
        {
            throw Malformed("the log line must be a string");
        }

        AddLine(ref reader, batch, timestamp);
        Read(ref reader);
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            ReadMetadata(ref reader, batch);
            Read(ref reader);
        }
        else if (reader.TokenType == JsonTokenType.Null)
        {
            Read(ref reader);
        }

        if (reader.TokenType != JsonTokenType.EndArray)
        {
            throw Malformed("array must contains 2 or 3 values: timestamp, line and optional structured metadata");
        }
    }

    private static void ReadLegacyStream(ref Utf8JsonReader reader, PushBatch batch)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Malformed("each stream must be an object");
        }

        var labels = "";
        var entries = default(Utf8JsonReader);
        var hasEntries = false;
        while (Read(ref reader) && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("labels"u8))
            {
                Read(ref reader);
                labels = reader.TokenType == JsonTokenType.String ? Text(ref reader) : throw Malformed("\"labels\" must be a string like {job=\"app\"}");
            }
            else if (reader.ValueTextEquals("entries"u8))
            {
                Read(ref reader);
                entries = reader;
                hasEntries = true;
                reader.Skip();
            }
            else
            {
                Read(ref reader);
                reader.Skip();
            }
        }

        batch.BeginStream(labels);
        if (!hasEntries || entries.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (entries.TokenType != JsonTokenType.StartArray)
        {
            throw Malformed("\"entries\" must be an array");
        }

        while (Read(ref entries) && entries.TokenType != JsonTokenType.EndArray)
        {
            ReadLegacyEntry(ref entries, batch);
        }
    }

    private static void ReadLegacyEntry(ref Utf8JsonReader reader, PushBatch batch)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Malformed("each entry must be an object with \"ts\" and \"line\"");
        }

        long timestamp = 0;
        var line = default(Utf8JsonReader);
        var hasLine = false;
        var metadata = default(Utf8JsonReader);
        var hasMetadata = false;
        while (Read(ref reader) && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("ts"u8) || reader.ValueTextEquals("timestamp"u8))
            {
                Read(ref reader);
                var text = reader.TokenType == JsonTokenType.String ? Text(ref reader) : throw Malformed("\"ts\" must be an RFC3339 string");
                timestamp = GoTimestamp.TryParseRfc3339(text, out var parsed) ? parsed : throw Malformed($"parsing time \"{text}\" as RFC3339");
            }
            else if (reader.ValueTextEquals("line"u8))
            {
                Read(ref reader);
                line = reader;
                hasLine = true;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("structuredMetadata"u8))
            {
                Read(ref reader);
                metadata = reader;
                hasMetadata = true;
                reader.Skip();
            }
            else
            {
                Read(ref reader);
                reader.Skip();
            }
        }

        if (!hasLine || line.TokenType != JsonTokenType.String)
        {
            throw Malformed("each entry needs a string \"line\"");
        }

        AddLine(ref line, batch, timestamp);
        if (hasMetadata && metadata.TokenType == JsonTokenType.StartObject)
        {
            ReadMetadata(ref metadata, batch);
        }
    }

    private static void AddLine(ref Utf8JsonReader reader, PushBatch batch, long timestamp)
    {
        if (!reader.ValueIsEscaped)
        {
            batch.AddEntry(timestamp, reader.ValueSpan);
            return;
        }

        AddEscapedLine(ref reader, batch, timestamp);
    }

    // Apart from AddLine so that the common unescaped line stays a short path without exception handling.
    private static void AddEscapedLine(ref Utf8JsonReader reader, PushBatch batch, long timestamp)
    {
        var target = batch.ReserveLine(reader.ValueSpan.Length);
        int written;
        try
        {
            written = reader.CopyString(target);
        }
        catch (InvalidOperationException)
        {
            // Invalid UTF-8 or a lone surrogate escape: kept as the protobuf path keeps bytes, shown as U+FFFD when read.
            written = JsonStrings.Unescape(reader.ValueSpan, target);
        }

        batch.AddReservedEntry(timestamp, written);
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, PushBatch batch)
    {
        while (Read(ref reader) && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = Text(ref reader);
            Read(ref reader);
            if (reader.TokenType != JsonTokenType.String)
            {
                throw Malformed($"structured metadata value of \"{name}\" must be a string");
            }

            batch.AddMetadata(name, Text(ref reader));
        }
    }

    private static string ReadLabelMap(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Malformed("\"stream\" must be an object of label names to values");
        }

        var pairs = new List<LabelPair>();
        while (Read(ref reader) && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = Text(ref reader);
            Read(ref reader);
            if (reader.TokenType != JsonTokenType.String)
            {
                throw Malformed($"label \"{name}\" must have a string value");
            }

            pairs.Add(new LabelPair(name, Text(ref reader)));
        }

        return pairs.Count == 0 ? "{}" : LabelSet.From(pairs).ToString();
    }

    // A string or property name as text; invalid UTF-8 and lone surrogate escapes become U+FFFD, as Go's decoding does.
    private static string Text(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan.IsEmpty ? "" : Encoding.UTF8.GetString(reader.ValueSpan);
        }

        try
        {
            return reader.GetString() ?? "";
        }
        catch (InvalidOperationException)
        {
            return JsonStrings.UnescapeToString(reader.ValueSpan);
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string message)
    {
        if (!reader.Read() || reader.TokenType != type)
        {
            throw Malformed(message);
        }
    }

    private static bool Read(ref Utf8JsonReader reader) => reader.Read() ? true : throw Malformed("unexpected end of JSON input");

    private static PushRequestException Malformed(string reason) => new(400, reason);
}
