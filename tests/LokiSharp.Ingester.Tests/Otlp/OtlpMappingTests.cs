using System.Text;
using Google.Protobuf;
using LokiSharp.Ingester.Otlp;
using LokiSharp.Ingester.Otlp.Protos;
using LokiSharp.Ingester.Push;

namespace LokiSharp.Ingester.Tests.Otlp;

/// <summary>The OTLP → Loki mapping table: which attribute ends up where, under which name, with which text.</summary>
public sealed class OtlpMappingTests
{
    private const long Now = 1_700_000_999_000_000_000;

    private static readonly string[] DiscoverList =
    [
        "service", "app", "application", "app_name", "name", "app_kubernetes_io_name", "container", "container_name",
        "k8s_container_name", "component", "workload", "job", "k8s_job_name",
    ];

    internal static KeyValue Attr(string key, AnyValue value) => new() { Key = key, Value = value };

    internal static KeyValue Attr(string key, string value) => Attr(key, new AnyValue { StringValue = value });

    private static AnyValue Map(params KeyValue[] pairs)
    {
        var list = new KeyValueList();
        list.Values.AddRange(pairs);
        return new AnyValue { KvlistValue = list };
    }

    private static AnyValue Array(params AnyValue[] values)
    {
        var array = new ArrayValue();
        array.Values.AddRange(values);
        return new AnyValue { ArrayValue = array };
    }

    internal static ExportLogsServiceRequest Request(IEnumerable<KeyValue> resource, InstrumentationScope? scope, params LogRecord[] records)
    {
        var resourceLogs = new ResourceLogs { Resource = new Resource() };
        resourceLogs.Resource.Attributes.AddRange(resource);
        var scopeLogs = new ScopeLogs { Scope = scope };
        scopeLogs.LogRecords.AddRange(records);
        resourceLogs.ScopeLogs.Add(scopeLogs);
        var request = new ExportLogsServiceRequest();
        request.ResourceLogs.Add(resourceLogs);
        return request;
    }

    internal static LogRecord Record(string body, long time = 1_700_000_000_000_000_000, params KeyValue[] attributes)
    {
        var record = new LogRecord { TimeUnixNano = (ulong)time, Body = new AnyValue { StringValue = body } };
        record.Attributes.AddRange(attributes);
        return record;
    }

    internal static List<(string Labels, long Ts, string Line, string Metadata)> Rows(PushBatch batch)
    {
        var rows = new List<(string, long, string, string)>();
        foreach (var stream in batch.Streams)
        {
            foreach (var entry in batch.EntriesOf(stream))
            {
                var metadata = string.Join(", ", batch.Metadata(entry).ToArray().Select(p => p.Name + "=" + p.Value));
                rows.Add((stream.Labels, entry.TimestampNs, Encoding.UTF8.GetString(batch.Line(entry)), metadata));
            }
        }

        return rows;
    }

    private static List<(string Labels, long Ts, string Line, string Metadata)> Map(ExportLogsServiceRequest request, bool discover = true)
    {
        using var batch = OtlpLogsMapper.ToBatch(request, new OtlpMapping { DiscoverServiceName = discover ? DiscoverList : [] }, Now);
        Assert.Equal("otlp", batch.Format);
        return Rows(batch);
    }

    [Fact]
    public void Default_list_resource_attributes_become_sanitised_labels_and_the_rest_metadata()
    {
        var rows = Map(Request(
            [
                Attr("service.name", "checkout"), Attr("k8s.pod.name", "checkout-7d9"), Attr("k8s.namespace.name", "shop"),
                Attr("deployment.environment.name", "prod"), Attr("host.name", "node-1"), Attr("process.pid", new AnyValue { IntValue = 42 }),
            ],
            null,
            Record("hello")));

        var row = Assert.Single(rows);
        Assert.Equal("""{deployment_environment_name="prod", k8s_namespace_name="shop", k8s_pod_name="checkout-7d9", service_name="checkout"}""", row.Labels);
        Assert.Equal(1_700_000_000_000_000_000, row.Ts);
        Assert.Equal("hello", row.Line);
        Assert.Equal("host_name=node-1, process_pid=42", row.Metadata);
    }

    [Theory]
    [InlineData("k8s.container.name", "cart", """{k8s_container_name="cart", service_name="cart"}""")]
    [InlineData("k8s.job.name", "nightly", """{k8s_job_name="nightly", service_name="nightly"}""")]
    [InlineData("k8s.pod.name", "p-1", """{k8s_pod_name="p-1", service_name="unknown_service"}""")]
    public void A_missing_service_name_falls_back_to_the_first_discover_list_index_label(string attribute, string value, string labels)
    {
        var row = Assert.Single(Map(Request([Attr(attribute, value)], null, Record("x"))));
        Assert.Equal(labels, row.Labels);
    }

    [Fact]
    public void An_empty_service_name_counts_as_missing_and_discovery_off_adds_nothing()
    {
        Assert.Equal("""{container_name="cart", service_name="cart"}""",
            Assert.Single(Map(Request([Attr("service.name", ""), Attr("container.name", "cart")], null, Record("x")))).Labels);
        Assert.Equal("""{k8s_pod_name="p"}""", Assert.Single(Map(Request([Attr("k8s.pod.name", "p")], null, Record("x")), discover: false)).Labels);
    }

    [Fact]
    public void A_service_name_attribute_that_is_not_a_label_still_counts_as_present()
    {
        // A non-string service.name is still an index label; its text is the label value.
        var row = Assert.Single(Map(Request([Attr("service.name", new AnyValue { IntValue = 7 })], null, Record("x"))));
        Assert.Equal("""{service_name="7"}""", row.Labels);
    }

    [Fact]
    public void Scope_attributes_and_fields_are_metadata_after_the_record_and_resource_ones()
    {
        var scope = new InstrumentationScope { Name = "io.opentelemetry.jdbc", Version = "1.2.0", DroppedAttributesCount = 3 };
        scope.Attributes.Add(Attr("scope.attr", "s"));
        var rows = Map(Request([Attr("service.name", "db"), Attr("host.name", "h")], scope, Record("q", attributes: Attr("user.id", "u1"))));

        Assert.Equal("user_id=u1, host_name=h, scope_attr=s, scope_name=io.opentelemetry.jdbc, scope_version=1.2.0, scope_dropped_attributes_count=3",
            Assert.Single(rows).Metadata);
    }

    [Fact]
    public void Log_record_fields_become_metadata_in_Lokis_order()
    {
        var record = Record("boom", attributes: Attr("http.status_code", new AnyValue { IntValue = 500 }));
        record.ObservedTimeUnixNano = 1_700_000_000_500_000_000;
        record.SeverityNumber = SeverityNumber.Error;
        record.SeverityText = "ERROR";
        record.DroppedAttributesCount = 2;
        record.Flags = 1;
        record.TraceId = ByteString.CopyFrom(Convert.FromHexString("5B8EFFF798038103D269B633813FC60C"));
        record.SpanId = ByteString.CopyFrom(Convert.FromHexString("EEE19B7EC3C1B174"));
        record.EventName = "payment.failed";

        var row = Assert.Single(Map(Request([Attr("service.name", "pay")], null, record)));
        Assert.Equal(
            "http_status_code=500, observed_timestamp=1700000000500000000, severity_number=17, severity_text=ERROR, dropped_attributes_count=2, " +
            "flags=1, trace_id=5b8efff798038103d269b633813fc60c, span_id=eee19b7ec3c1b174, event_name=payment.failed",
            row.Metadata);
    }

    [Fact]
    public void Unset_fields_are_left_out_and_all_zero_ids_count_as_unset()
    {
        var record = Record("quiet");
        record.TraceId = ByteString.CopyFrom(new byte[16]);
        record.SpanId = ByteString.CopyFrom(new byte[8]);
        Assert.Equal("", Assert.Single(Map(Request([Attr("service.name", "a")], null, record))).Metadata);
    }

    [Fact]
    public void The_event_name_field_replaces_an_event_name_attribute_but_the_attribute_stays_without_it()
    {
        var withField = Record("e", attributes: Attr("event_name", "from-attribute"));
        withField.EventName = "from-field";
        var withoutField = Record("e", attributes: Attr("event_name", "from-attribute"));

        var rows = Map(Request([Attr("service.name", "a")], null, withField, withoutField));
        Assert.Equal(["event_name=from-field", "event_name=from-attribute"], rows.Select(r => r.Metadata));
    }

    [Fact]
    public void Map_values_flatten_to_parent_child_names_and_other_kinds_are_stringified()
    {
        var rows = Map(Request(
            [Attr("service.name", "a")],
            null,
            Record("x", attributes:
            [
                Attr("http", Map(Attr("request.method", "GET"), Attr("response", Map(Attr("status", new AnyValue { IntValue = 200 }))))),
                Attr("tags", Array(new AnyValue { StringValue = "a<b" }, new AnyValue { IntValue = 1 }, new AnyValue { BoolValue = true })),
                Attr("ratio", new AnyValue { DoubleValue = 0.25 }),
                Attr("big", new AnyValue { DoubleValue = 1e21 }),
                Attr("ok", new AnyValue { BoolValue = false }),
                Attr("raw", new AnyValue { BytesValue = ByteString.CopyFromUtf8("hi") }),
                Attr("empty", new AnyValue()),
                Attr("1st.key", "v"),
            ])));

        Assert.Equal(
            """http_request_method=GET, http_response_status=200, tags=["a\u003cb",1,true], ratio=0.25, big=1e+21, ok=false, raw=aGk=, empty=, key_1st_key=v""",
            Assert.Single(rows).Metadata);
    }

    [Fact]
    public void Map_bodies_are_JSON_with_sorted_keys_and_the_last_duplicate_winning()
    {
        var body = Map(
            Attr("z", new AnyValue { DoubleValue = 1.5 }),
            Attr("a", Array(new AnyValue { BytesValue = ByteString.CopyFromUtf8("hi") }, new AnyValue())),
            Attr("m", "first"),
            Attr("m", "second \"quoted\" & <tagged>\n"));
        var record = new LogRecord { TimeUnixNano = 1, Body = body };

        var row = Assert.Single(Map(Request([Attr("service.name", "a")], null, record)));
        Assert.Equal("""{"a":["aGk=",null],"m":"second \"quoted\" \u0026 \u003ctagged\u003e\n","z":1.5}""", row.Line);
    }

    [Theory]
    [InlineData(AnyValue.ValueOneofCase.IntValue, "-12")]
    [InlineData(AnyValue.ValueOneofCase.DoubleValue, "3.14")]
    [InlineData(AnyValue.ValueOneofCase.BoolValue, "true")]
    [InlineData(AnyValue.ValueOneofCase.None, "")]
    public void Scalar_bodies_are_their_text(AnyValue.ValueOneofCase kind, string line)
    {
        var body = kind switch
        {
            AnyValue.ValueOneofCase.IntValue => new AnyValue { IntValue = -12 },
            AnyValue.ValueOneofCase.DoubleValue => new AnyValue { DoubleValue = 3.14 },
            AnyValue.ValueOneofCase.BoolValue => new AnyValue { BoolValue = true },
            _ => new AnyValue(),
        };
        Assert.Equal(line, Assert.Single(Map(Request([Attr("service.name", "a")], null, new LogRecord { TimeUnixNano = 1, Body = body }))).Line);
        Assert.Equal("", Assert.Single(Map(Request([Attr("service.name", "a")], null, new LogRecord { TimeUnixNano = 1 }))).Line);
    }

    [Fact]
    public void Timestamps_are_time_then_observed_time_then_now_and_observed_is_metadata_only_with_both()
    {
        var both = new LogRecord { TimeUnixNano = 10, ObservedTimeUnixNano = 20 };
        var observedOnly = new LogRecord { ObservedTimeUnixNano = 30 };
        var neither = new LogRecord();

        var rows = Map(Request([Attr("service.name", "a")], null, both, observedOnly, neither));
        Assert.Equal([10L, 30L, Now], rows.Select(r => r.Ts));
        Assert.Equal(["observed_timestamp=20", "", ""], rows.Select(r => r.Metadata));
    }

    [Fact]
    public void Resources_with_the_same_labels_share_one_stream_and_an_empty_export_has_no_streams()
    {
        var request = Request([Attr("service.name", "a"), Attr("host.name", "h1")], null, Record("one"));
        request.ResourceLogs.Add(Request([Attr("service.name", "b")], null, Record("two")).ResourceLogs[0]);
        request.ResourceLogs.Add(Request([Attr("service.name", "a"), Attr("host.name", "h2")], null, Record("three")).ResourceLogs[0]);

        using var batch = OtlpLogsMapper.ToBatch(request, new OtlpMapping(), Now);
        Assert.Equal(["""{service_name="a"}""", """{service_name="b"}"""], batch.Streams.Select(s => s.Labels));
        Assert.Equal(["one", "three", "two"], Rows(batch).Select(r => r.Line));

        using var empty = OtlpLogsMapper.ToBatch(Request([Attr("service.name", "a")], null), new OtlpMapping(), Now);
        Assert.Equal(0, empty.Streams.Count);
    }

    [Fact]
    public void An_empty_attribute_name_or_a_wrong_id_length_rejects_the_request()
    {
        var emptyKey = Assert.Throws<PushRequestException>(() => Map(Request([Attr("service.name", "a")], null, Record("x", attributes: Attr("", "v")))));
        Assert.Equal(400, emptyKey.StatusCode);
        Assert.Equal("symbolizer lookup: label name is empty", emptyKey.Message);

        var underscores = Assert.Throws<PushRequestException>(() => Map(Request([Attr("...", "v")], null, Record("x"))));
        Assert.Equal("symbolizer lookup: normalization for label name \"...\" resulted in invalid name \"_\"", underscores.Message);

        var shortTrace = Record("x");
        shortTrace.TraceId = ByteString.CopyFrom(1, 2, 3);
        var idError = Assert.Throws<PushRequestException>(() => Map(Request([Attr("service.name", "a")], null, shortTrace)));
        Assert.Equal(400, idError.StatusCode);
        Assert.Contains("trace_id", idError.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("k8s.pod.name", "k8s_pod_name")]
    [InlineData("a..b--c", "a_b_c")]
    [InlineData("a__b", "a_b")]
    [InlineData("1abc", "key_1abc")]
    [InlineData("__meta.x__", "__meta_x__")]
    [InlineData("__ok__", "__ok__")]
    [InlineData("_private", "_private")]
    [InlineData("ünï", "_n_")]
    [InlineData("plain_name", "plain_name")]
    public void Label_names_follow_the_Prometheus_OTLP_rule(string name, string expected) =>
        Assert.Equal(expected, OtlpAttributeText.LabelName(name));

    [Theory]
    [InlineData(1.5, "1.5")]
    [InlineData(100.0, "100")]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(1e21, "1e+21")]
    [InlineData(1.25e-7, "1.25e-7")]
    [InlineData(0.000001, "0.000001")]
    [InlineData(-2.5e-10, "-2.5e-10")]
    [InlineData(123456789.125, "123456789.125")]
    [InlineData(0.1, "0.1")]
    [InlineData(-0.0, "-0")]
    public void Doubles_print_as_JavaScript_numbers(double value, string expected) =>
        Assert.Equal(expected, OtlpAttributeText.JavaScriptNumber(value));

    [Fact]
    public void Non_finite_doubles_print_as_the_Collector_does()
    {
        Assert.Equal("json: unsupported value: NaN", OtlpAttributeText.Value(new AnyValue { DoubleValue = double.NaN }));
        Assert.Equal("", OtlpAttributeText.Value(Array(new AnyValue { DoubleValue = double.PositiveInfinity })));
    }
}
