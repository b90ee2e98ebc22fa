using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.Querier.Logs;
using LokiSharp.Querier.Metrics;

namespace LokiSharp.Querier.Tests;

/// <summary>
/// Entries whose structured metadata no stage, capture or kept label names are run as if they had none: the samples
/// equal those of the same query with a stage that turns that shortcut off (a <c>drop</c> of an absent label), and
/// metadata that does matter (kept, taking a capture's name, an error label) still changes them as before.
/// </summary>
public sealed class StoredSampleMetadataTests
{
    private const long Second = 1_000_000_000L;
    private const long Start = 1_700_000_000L * Second;
    private const long End = Start + (20 * 60 * Second);
    private const string Pattern = "| pattern \"<_> \\\"<_> <_> <_>\\\" <status> <_>\"";

    private static readonly Lazy<ChunkSource> Data = new(Build);

    public static TheoryData<string> Queries() => new()
    {
        $"sum by (status) (count_over_time({{app=\"nginx\"}} {Pattern} [5m]))",
        $"sum by (status) (count_over_time({{app=\"nginx\"}} |= \"GET\" {Pattern} [5m]))",
        $"sum by (status, pod) (bytes_over_time({{app=\"nginx\"}} {Pattern} [5m]))",
        $"sum by (detected_level) (count_over_time({{app=\"nginx\"}} {Pattern} [5m]))",
        $"sum by (status_extracted) (count_over_time({{app=\"nginx\"}} {Pattern} [5m]))",
        $"sum by (trace_id) (count_over_time({{app=\"nginx\"}} {Pattern} [5m]))",
        $"sum(count_over_time({{app=\"nginx\"}} {Pattern} [5m]))",
        $"count_over_time({{app=\"nginx\"}} {Pattern} [5m])",
        "sum by (pod) (count_over_time({app=\"nginx\"} != \"POST\" [5m]))",
        "sum by (__error__) (count_over_time({app=\"nginx\"} [5m]))",
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public void Samples_equal_those_of_the_query_that_reads_all_metadata(string query)
    {
        var reference = query.Replace(" [5m]", " | drop no_such_label [5m]", StringComparison.Ordinal);
        var withoutErrors = "";
        foreach (var selector in new[] { "{app=\"nginx\"}", "{app=\"nginx\", pod!=\"nginx-2\"}" })
        {
            var fast = Values(query.Replace("{app=\"nginx\"}", selector, StringComparison.Ordinal));
            Assert.Equal(Values(reference.Replace("{app=\"nginx\"}", selector, StringComparison.Ordinal)), fast);
            withoutErrors = fast;
        }

        // Without the stream whose metadata sets __error__, the query has samples to compare.
        Assert.Contains("\"values\"", withoutErrors, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Queries))]
    public void Entries_read_in_runs_reuse_repeated_metadata_as_one_by_one_reads_decode_it(string query)
    {
        foreach (var selector in new[] { "{app=\"nginx\"}", "{app=\"nginx\", pod!=\"nginx-2\"}" })
        {
            var selected = query.Replace("{app=\"nginx\"}", selector, StringComparison.Ordinal);
            Assert.Equal(Values(selected, new PassThroughSource(Data.Value)), Values(selected));
        }
    }

    [Fact]
    public void Error_label_in_metadata_fails_the_query_as_before()
    {
        Assert.StartsWith("error: pipeline error: 'SomeError'", Values($"sum by (status) (count_over_time({{app=\"nginx\"}} {Pattern} [5m]))"),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Metadata_taking_the_captures_name_is_what_sum_by_groups_on()
    {
        // Entries with metadata status="meta" keep it as status (the capture goes to status_extracted), as in Loki.
        var json = Values($"sum by (status) (count_over_time({{app=\"nginx\", pod!=\"nginx-2\"}} {Pattern} [20m]))");
        Assert.Contains("\"status\":\"meta\"", json, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"503\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Kept_metadata_groups_the_samples()
    {
        var json = Values($"sum by (detected_level) (count_over_time({{app=\"nginx\", pod!=\"nginx-2\"}} {Pattern} [20m]))");
        Assert.Contains("\"detected_level\":\"error\"", json, StringComparison.Ordinal);
        Assert.Contains("\"detected_level\":\"info\"", json, StringComparison.Ordinal);
    }

    private static string Values(string query, Storage.Reading.ILogSource? source = null)
    {
        var stats = new QueryStatistics();
        try
        {
            return MetricQueryJson.Result(MetricQueryJson.Of(new StoredSampleSource([source ?? Data.Value], "fake", stats), stats, query,
                MetricQueryParameters.Range(Start, End, 60 * Second), new MetricQueryLimits { MaxQuerySeries = 0, MaxParallelism = 2 }));
        }
        catch (MetricQueryException e)
        {
            return "error: " + e.Message;
        }
    }

    /// <summary>
    /// Four nginx streams: every entry has detected_level metadata, some a trace_id, a few status="meta" (the
    /// capture's name) or status_extracted, and in nginx-2 __error__; nginx-3 has none at all.
    /// </summary>
    private static ChunkSource Build()
    {
        var source = new ChunkSource();
        var random = new Random(5);
        for (var s = 0; s < 4; s++)
        {
            var labels = LabelSet.From(("app", "nginx"), ("namespace", "shop"), ("pod", $"nginx-{s}"));
            var entries = new List<(long, string, LabelPair[])>();
            var ts = Start - (6 * 60 * Second);
            for (var i = 0; i < 600; i++)
            {
                ts += random.Next(1, 3) * Second;
                var status = random.Next(0, 8) == 0 ? 503 : 200;
                var method = i % 4 == 0 ? "POST" : "GET";
                var line = $"10.0.0.{s} - - [24/Nov/2026:10:00:00 +0000] \"{method} /api/{i % 5} HTTP/1.1\" {status} {random.Next(100, 900)} \"-\"";
                LabelPair[] metadata = s == 3 ? [] : (i % 50) switch
                {
                    7 => [new("detected_level", "info"), new("status", "meta")],
                    8 => [new("status_extracted", "x")],
                    9 when s == 2 => [new("__error__", "SomeError")],
                    _ when i % 3 == 0 => [new("detected_level", status >= 500 ? "error" : "info"), new("trace_id", $"{i:x8}")],
                    _ => [new("detected_level", status >= 500 ? "error" : "info")],
                };
                entries.Add((ts, line, metadata));
            }

            source.Add(labels, entries);
        }

        return source;
    }
}
