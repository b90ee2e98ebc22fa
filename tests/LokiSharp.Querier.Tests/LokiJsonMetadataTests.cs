using System.Text;
using System.Text.Json;
using LokiSharp.LogQL.Labels;
using LokiSharp.Querier.Detected;
using LokiSharp.Querier.Logs;
using LokiSharp.Querier.Patterns;
using LokiSharp.Querier.Responses;
using LokiSharp.Storage.Index;

namespace LokiSharp.Querier.Tests;

/// <summary>The metadata and Logs Drilldown shapes, byte for byte.</summary>
public sealed class LokiJsonMetadataTests
{
    private static readonly LabelSet Api = LabelSet.From(("app", "api"), ("env", "prod"));
    private static readonly LabelSet Web = LabelSet.From(("app", "web"));

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, LokiJson.WriterOptions))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    // The zero "stats" object as every response carries it, without the braces around it.
    private static string ZeroStats()
    {
        var wrapped = Json(w =>
        {
            w.WriteStartObject();
            LokiJson.WriteStats(w, new QueryStatistics());
            w.WriteEndObject();
        });
        return wrapped[1..^1];
    }

    [Fact]
    public void Label_values_leave_out_an_empty_array_and_the_legacy_form_has_no_status()
    {
        Assert.Equal("{\"status\":\"success\",\"data\":[\"app\",\"env\"]}", Json(w => LokiJson.WriteLabelValues(w, ["app", "env"], legacy: false)));
        Assert.Equal("{\"status\":\"success\"}", Json(w => LokiJson.WriteLabelValues(w, [], legacy: false)));
        Assert.Equal("{\"values\":[\"api\"]}", Json(w => LokiJson.WriteLabelValues(w, ["api"], legacy: true)));
        Assert.Equal("{}", Json(w => LokiJson.WriteLabelValues(w, [], legacy: true)));
    }

    [Fact]
    public void Series_are_label_maps()
    {
        Assert.Equal("{\"status\":\"success\",\"data\":[{\"app\":\"api\",\"env\":\"prod\"},{\"app\":\"web\"}]}",
            Json(w => LokiJson.WriteSeries(w, [Api, Web])));
        Assert.Equal("{\"status\":\"success\",\"data\":[]}", Json(w => LokiJson.WriteSeries(w, [])));
    }

    [Fact]
    public void Index_stats_are_four_numbers() =>
        Assert.Equal("{\"streams\":2,\"chunks\":3,\"bytes\":4096,\"entries\":50}",
            Json(w => LokiJson.WriteIndexStats(w, new IndexStats(2, 3, 4096, 50))));

    [Fact]
    public void Volume_is_a_vector_or_a_matrix_at_the_end_of_the_range()
    {
        List<(LabelSet, long)> volumes = [(Api, 1234), (Web, 5)];
        const long end = 1_700_000_000_123_456_789;

        Assert.Equal(
            "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[" +
            "{\"metric\":{\"app\":\"api\",\"env\":\"prod\"},\"value\":[1700000000.123,\"1234\"]}," +
            "{\"metric\":{\"app\":\"web\"},\"value\":[1700000000.123,\"5\"]}]," + ZeroStats() + "}}",
            Json(w => LokiJson.WriteVolume(w, volumes, end, range: false)));
        Assert.Equal(
            "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[" +
            "{\"metric\":{\"app\":\"api\",\"env\":\"prod\"},\"values\":[[1700000000,\"1234\"]]}," +
            "{\"metric\":{\"app\":\"web\"},\"values\":[[1700000000,\"5\"]]}]," + ZeroStats() + "}}",
            Json(w => LokiJson.WriteVolume(w, volumes, 1_700_000_000_000_000_000, range: true)));
        Assert.Equal("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]," + ZeroStats() + "}}",
            Json(w => LokiJson.WriteVolume(w, [], end, range: false)));
    }

    [Fact]
    public void Format_query_answers_the_query_or_the_parse_error()
    {
        Assert.Equal("{\"status\":\"success\",\"data\":\"{app=\\\"api\\\"}\"}", Json(w => LokiJson.WriteFormattedQuery(w, "{app=\"api\"}")));
        Assert.Equal("{\"status\":\"invalid-query\",\"error\":\"parse error\"}", Json(w => LokiJson.WriteInvalidQuery(w, "parse error")));
    }

    [Fact]
    public void Patterns_carry_their_samples_and_warnings()
    {
        List<MinedPattern> patterns = [new("<_> GET <_>", "info", [(1_700_000_000, 3), (1_700_000_010, 1)])];

        Assert.Equal("{\"status\":\"success\",\"data\":[{\"pattern\":\"<_> GET <_>\",\"level\":\"info\",\"samples\":[[1700000000,3],[1700000010,1]]}]}",
            Json(w => LokiJson.WritePatterns(w, patterns, [])));
        Assert.Equal("{\"status\":\"success\",\"warnings\":[\"skipped\"],\"data\":[]}", Json(w => LokiJson.WritePatterns(w, [], ["skipped"])));
    }

    [Fact]
    public void Detected_labels_are_left_out_when_there_are_none()
    {
        Assert.Equal("{\"detectedLabels\":[{\"label\":\"app\",\"cardinality\":2}]}", Json(w => LokiJson.WriteDetectedLabels(w, [new DetectedLabel("app", 2)])));
        Assert.Equal("{}", Json(w => LokiJson.WriteDetectedLabels(w, [])));
    }

    [Fact]
    public void Detected_fields_tell_metadata_by_null_parsers()
    {
        List<DetectedField> fields =
        [
            new("duration", "duration", 12, ["logfmt"], null),
            new("trace_id", "string", 40, null, null),
            new("user_id", "int", 3, ["json"], ["user", "id"]),
        ];

        Assert.Equal(
            "{\"fields\":[{\"label\":\"duration\",\"type\":\"duration\",\"cardinality\":12,\"parsers\":[\"logfmt\"]}," +
            "{\"label\":\"trace_id\",\"type\":\"string\",\"cardinality\":40,\"parsers\":null}," +
            "{\"label\":\"user_id\",\"type\":\"int\",\"cardinality\":3,\"parsers\":[\"json\"],\"jsonPath\":[\"user\",\"id\"]}],\"limit\":1000}",
            Json(w => LokiJson.WriteDetectedFields(w, fields, 1000, [])));
        Assert.Equal("{\"warnings\":[\"skipped\"]}", Json(w => LokiJson.WriteDetectedFields(w, [], 1000, ["skipped"])));
    }

    [Fact]
    public void Detected_field_values_carry_the_limit_only_with_values()
    {
        Assert.Equal("{\"values\":[\"GET\",\"POST\"],\"limit\":50}", Json(w => LokiJson.WriteDetectedFieldValues(w, ["GET", "POST"], 50, [])));
        Assert.Equal("{}", Json(w => LokiJson.WriteDetectedFieldValues(w, [], 50, [])));
    }
}
