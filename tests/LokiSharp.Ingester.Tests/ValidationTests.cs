using System.Text;
using LokiSharp.Ingester.Distribution;
using LokiSharp.Ingester.Limits;
using LokiSharp.Ingester.Push;
using LokiSharp.LogQL.Labels;
using Prometheus;

namespace LokiSharp.Ingester.Tests;

public sealed class ValidationTests
{
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;

    private static ValidatedPush Validate(IngestionLimits limits, params (string Labels, long Ts, string Line, (string, string)[] Metadata)[] entries)
    {
        using var batch = new PushBatch();
        string? current = null;
        foreach (var (labels, ts, line, metadata) in entries)
        {
            if (labels != current)
            {
                batch.BeginStream(labels);
                current = labels;
            }

            batch.AddEntry(ts, Encoding.UTF8.GetBytes(line));
            foreach (var (name, value) in metadata)
            {
                batch.AddMetadata(name, value);
            }
        }

        var validator = new PushValidator(new IngesterMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry())), TimeProvider.System);
        return validator.Validate("fake", batch, limits);
    }

    [Fact]
    public void A_valid_entry_gains_service_name_and_detected_level()
    {
        var result = Validate(new IngestionLimits(), ("{app=\"checkout\", namespace=\"shop\"}", Now, "level=warn msg=slow", []));

        var stream = Assert.Single(result.Streams);
        Assert.Equal("{app=\"checkout\", namespace=\"shop\", service_name=\"checkout\"}", stream.Labels.ToString());
        Assert.Equal([new LabelPair("detected_level", "warn")], Assert.Single(stream.Entries).Metadata);
        Assert.False(result.Errors.Any);
    }

    [Fact]
    public void A_returned_result_is_reused_for_the_next_push_with_nothing_of_the_one_before()
    {
        var validator = new PushValidator(new IngesterMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry())), TimeProvider.System);
        ValidatedPush Push(params (string Labels, long Ts, string Line)[] entries)
        {
            using var batch = new PushBatch();
            foreach (var (labels, ts, line) in entries)
            {
                batch.BeginStream(labels);
                batch.AddEntry(ts, Encoding.UTF8.GetBytes(line));
            }

            return validator.Validate("fake", batch, new IngestionLimits());
        }

        var first = Push(("{app=\"a\"}", Now, "level=error one"), ("{app=\"b\"}", Now, "level=info two"), ("{app=\"c\"}", Now + (1L << 62), "too new"));
        Assert.Equal(2, first.Streams.Count);
        Assert.True(first.Errors.Any);
        var streams = first.Streams.ToList();
        validator.Return(first);

        var second = Push(("{app=\"d\"}", Now + 1, "level=warn three"));
        Assert.Same(first, second);
        var stream = Assert.Single(second.Streams);
        Assert.Contains(stream, streams);
        Assert.Equal("{app=\"d\", service_name=\"d\"}", stream.Labels.ToString());
        var entry = Assert.Single(stream.Entries);
        Assert.Equal((Now + 1, "warn"), (entry.TimestampNs, entry.Metadata[0].Value));
        Assert.Equal(1 << entry.Shared, stream.SharedUsed);
        Assert.Equal((1, "level=warn three".Length), (second.Lines, stream.Bytes));
        Assert.False(second.Errors.Any);

        // Not returned: the next push gets a result of its own.
        Assert.NotSame(second, Push(("{app=\"e\"}", Now, "x")));
    }

    [Fact]
    public void A_stream_seen_before_is_checked_again_under_new_limits()
    {
        var validator = new PushValidator(new IngesterMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry())), TimeProvider.System);
        ValidatedPush Push(IngestionLimits limits)
        {
            using var batch = new PushBatch();
            batch.BeginStream("{app=\"checkout\", level=\"warn\", namespace=\"shop\"}");
            batch.AddEntry(Now, "x"u8);
            return validator.Validate("fake", batch, limits);
        }

        var roomy = new IngestionLimits();
        var first = Assert.Single(Push(roomy).Streams);
        var again = Assert.Single(Push(roomy).Streams);
        Assert.Same(first.Labels, again.Labels);
        Assert.Equal("warn", Assert.Single(again.Entries).Metadata[0].Value);

        var tight = Push(roomy with { MaxLabelNamesPerSeries = 2 });
        Assert.Empty(tight.Streams);
        Assert.Contains("has 3 label names; limit 2", tight.Errors.ToString(), StringComparison.Ordinal);

        var renamed = Assert.Single(Push(roomy with { DiscoverServiceName = ["namespace"] }).Streams);
        Assert.Equal("shop", renamed.Labels.Get("service_name"));
    }

    [Fact]
    public void Service_name_falls_back_to_unknown_service()
    {
        var result = Validate(new IngestionLimits(), ("{pod=\"p-1\"}", Now, "x", []));

        Assert.Equal("unknown_service", Assert.Single(result.Streams).Labels.Get("service_name"));
    }

    [Fact]
    public void Metadata_names_are_sanitised()
    {
        var result = Validate(new IngestionLimits { DiscoverLogLevels = false }, ("{a=\"b\"}", Now, "x", [("k8s.pod.name", "p"), ("1st", "v"), ("a--b", "c")]));

        Assert.Equal([new LabelPair("k8s_pod_name", "p"), new LabelPair("key_1st", "v"), new LabelPair("a_b", "c")], Assert.Single(Assert.Single(result.Streams).Entries).Metadata);
    }

    [Fact]
    public void Each_entry_rule_has_Lokis_message()
    {
        var limits = new IngestionLimits { MaxLineSize = 10, MaxStructuredMetadataEntriesCount = 1 };
        var old = Now - TimeSpan.FromDays(8).Ticks * 100;
        var future = Now + TimeSpan.FromHours(1).Ticks * 100;

        var result = Validate(limits,
            ("{a=\"b\"}", old, "old", []),
            ("{a=\"b\"}", future, "future", []),
            ("{a=\"b\"}", Now, "this line is far too long", []),
            ("{a=\"b\"}", Now, "meta", [("x", "1"), ("y", "2")]),
            ("{a=\"b\"}", Now, "fine", []));

        var message = result.Errors.ToString();
        Assert.Contains($"1 errors like: entry for stream '{{a=\"b\", service_name=\"unknown_service\"}}' has timestamp too old: " +
            $"{LokiSharp.LogQL.Text.GoTimestamp.FormatRfc3339(old)}, oldest acceptable timestamp is: ", message, StringComparison.Ordinal);
        Assert.Contains($"1 errors like: entry for stream '{{a=\"b\", service_name=\"unknown_service\"}}' has timestamp too new: " +
            $"{LokiSharp.LogQL.Text.GoTimestamp.FormatRfc3339(future)}", message, StringComparison.Ordinal);
        Assert.Contains("1 errors like: max entry size '10' bytes exceeded for stream '{a=\"b\", service_name=\"unknown_service\"}' " +
            "while adding an entry with length '25' bytes", message, StringComparison.Ordinal);
        Assert.Contains("1 errors like: stream '{a=\"b\", service_name=\"unknown_service\"}' has too many structured metadata labels: '2', limit: '1'.", message, StringComparison.Ordinal);
        Assert.Equal("fine", Encoding.UTF8.GetString(Encoding.UTF8.GetBytes("fine")));
        Assert.Single(Assert.Single(result.Streams).Entries);
    }

    [Fact]
    public void Truncation_cuts_long_lines_instead_of_rejecting()
    {
        var result = Validate(new IngestionLimits { MaxLineSize = 4, MaxLineSizeTruncate = true }, ("{a=\"b\"}", Now, "truncate me", []));

        Assert.Equal(4, Assert.Single(Assert.Single(result.Streams).Entries).LineLength);
        Assert.False(result.Errors.Any);
    }

    [Theory]
    [InlineData("{a=\"b\", c=\"d\", e=\"f\"}", "entry for stream '{a=\"b\", c=\"d\", e=\"f\"}' has 3 label names; limit 2")]
    [InlineData("{}", "error at least one label pair is required per stream")]
    [InlineData("{a=\"b\"", "error parsing labels '{a=\"b\"' with error: ")]
    [InlineData("{verylongname=\"b\"}", "stream '{verylongname=\"b\"}' has label name too long: 'verylongname'")]
    [InlineData("{a=\"valuetoolong\"}", "stream '{a=\"valuetoolong\"}' has label value too long: 'valuetoolong'")]
    public void Stream_label_rules_reject_the_whole_stream_with_one_error(string labels, string expected)
    {
        var limits = new IngestionLimits { MaxLabelNamesPerSeries = 2, MaxLabelNameLength = 8, MaxLabelValueLength = 8 };

        var result = Validate(limits, (labels, Now, "x", []), (labels, Now + 1, "y", []));

        Assert.Empty(result.Streams);
        Assert.StartsWith(expected, result.Errors.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Service_name_is_not_counted_against_the_label_limit()
    {
        var result = Validate(new IngestionLimits { MaxLabelNamesPerSeries = 2 }, ("{a=\"1\", b=\"2\", service_name=\"s\"}", Now, "x", []));

        Assert.Single(result.Streams);
    }

    [Fact]
    public void Grouped_errors_read_like_Lokis()
    {
        var one = new GroupedErrors();
        one.Add("only");
        var many = new GroupedErrors();
        many.Add("a");
        many.Add("a");
        many.Add("b");

        Assert.Equal("only", one.ToString());
        Assert.Equal("2 errors like: a; 1 errors like: b", many.ToString());
    }

    [Theory]
    [InlineData("{\"level\":\"ERROR\",\"msg\":\"x\"}", "error")]
    [InlineData("{\"log\":{\"severity\":\"wrn\"}}", "warn")]
    [InlineData("ts=1 lvl=dbg msg=hi", "debug")]
    [InlineData("2024-01-01 [INFO] started", "info")]
    [InlineData("panic: fatal error in worker", "fatal")]
    [InlineData("misc:error is not a level", "unknown")]
    [InlineData("GET /health 200", "unknown")]
    [InlineData("Warning: disk almost full", "warn")]
    [InlineData("level=info task=charge id=9843e602 msg=\"task succeeded\" runtime=5.309s", "info")]
    [InlineData("lvl=debug severity=error msg=x", "error")]
    [InlineData("severity=error LEVEL=warn", "warn")]
    [InlineData("log.level=trace severity=info", "trace")]
    [InlineData("SeverityText=warn severity_text=error", "warn")]
    [InlineData("severity_text=error lvl=info", "info")]
    [InlineData("level=bogus severity=error", "error")]
    [InlineData("level=bogus msg=hello", "unknown")]
    [InlineData("severity=bogus msg=\"an error here\"", "error")]
    [InlineData("msg=\"level=warn inside quotes\" x=1", "warn")]
    [InlineData("msg=\"escaped \\\" quote\" level=\"WARNING\"", "warn")]
    [InlineData("msg=\"unterminated \\", "unknown")]
    [InlineData("levels=error x=1", "error")]
    [InlineData("rt=0.1 Log.Level=WRN", "warn")]
    [InlineData("id=7 SEVERITYTEXT=dbg", "debug")]
    [InlineData("a=\"x\"lvl=inf", "info")]
    [InlineData("a=b ERR c", "error")]
    [InlineData("10.1.2.3 - - [24/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\" rt=0.1", "unknown")]
    [InlineData("LOG:  duration: 93.448 ms  statement: SELECT * FROM products WHERE id = 7420", "unknown")]
    [InlineData("17:M 24 Nov 2026 10:00:00.000 * DB saved on disk", "unknown")]
    [InlineData("worker(info) started", "info")]
    [InlineData("x|critical|y", "critical")]
    [InlineData("'trace' \"debug\"", "trace")]
    [InlineData("terror errors erroneous", "unknown")]
    [InlineData("info", "info")]
    [InlineData("[warn]", "warn")]
    [InlineData("e", "unknown")]
    [InlineData("", "unknown")]
    [InlineData("debug, then error", "debug")]
    [InlineData("errand error", "error")]
    public void Level_detection_follows_Loki(string line, string expected) =>
        Assert.Equal(expected, LevelDetector.Detect(LabelSet.Empty, [], Encoding.UTF8.GetBytes(line)));

    // Long lines are scanned 32 positions at a time: a level word is found after every left boundary, at every
    // position (across block edges and in the tail), in either case, and the earliest of two still wins.
    [Fact]
    public void Level_words_are_found_at_every_position_of_a_long_line()
    {
        foreach (var boundary in " \t\n[({\"'=|")
        {
            for (var position = 1; position < 80; position++)
            {
                var prefix = new string('x', position - 1) + boundary;
                Assert.Equal("error", Detect(prefix + "Error " + new string('y', position % 40)));
                Assert.Equal("debug", Detect(prefix + "DEBUG " + new string('z', position % 37) + " error"));
                Assert.Equal("warn", Detect(prefix + "x warn"));
                Assert.Equal("unknown", Detect(prefix + "xerror " + new string('q', position % 33)));
            }
        }

        static string Detect(string line) => LevelDetector.Detect(LabelSet.Empty, [], Encoding.UTF8.GetBytes(line));
    }

    // The vector scan classifies bytes by table: every byte value before a level word, and every byte value starting a
    // word, is taken as the scalar rules take it, at positions inside the 32-byte blocks and at their edges.
    [Fact]
    public void Every_byte_value_is_a_left_boundary_or_a_first_letter_exactly_as_the_rules_say()
    {
        var boundaries = " \t\n[({\"'=|"u8.ToArray();
        for (var value = 0; value < 256; value++)
        {
            foreach (var position in (int[])[1, 31, 32, 33, 47, 64])
            {
                var line = new byte[position + 40];
                line.AsSpan().Fill((byte)'x');
                line[position - 1] = (byte)value;
                "error"u8.CopyTo(line.AsSpan(position));
                line[position + 5] = (byte)' ';
                var expected = Array.IndexOf(boundaries, (byte)value) >= 0 ? "error" : "unknown";
                Assert.True(expected == LevelDetector.Detect(LabelSet.Empty, [], line), $"byte {value} before a level word at {position}");

                line[position - 1] = (byte)' ';
                line[position] = (byte)value;
                expected = value is 'e' or 'E' ? "error" : "unknown";
                Assert.True(expected == LevelDetector.Detect(LabelSet.Empty, [], line), $"byte {value} starting a word at {position}");
            }
        }
    }

    [Fact]
    public void Level_label_wins_over_the_line()
    {
        Assert.Equal("error", LevelDetector.Detect(LabelSet.From(("level", "ERR")), [], "level=info"u8));
        Assert.Equal("critical", LevelDetector.Detect(LabelSet.Empty, [new MetadataPair("severity", "critical")], "x"u8));
        Assert.Equal("warn", LevelDetector.Detect(LabelSet.Empty, [new MetadataPair("severity_number", "13")], "x"u8));
    }
}
