using LokiSharp.Ingester.Otlp;
using LokiSharp.Ingester.Otlp.Protos;
using static LokiSharp.Ingester.Tests.Otlp.OtlpMappingTests;

namespace LokiSharp.Ingester.Tests.Otlp;

/// <summary>Per-tenant <c>otlp_config</c>: rule order, ignore_defaults, regexes, the three attribute kinds and validation.</summary>
public sealed class OtlpConfigRulesTests
{
    private const long Now = 1_700_000_999_000_000_000;

    private static OtlpAttributeRule Rule(OtlpAttributeKind kind, string action, string? regex = null, params string[] attributes) =>
        OtlpAttributeRule.Parse(kind, action, attributes, regex);

    private static List<(string Labels, long Ts, string Line, string Metadata)> Map(ExportLogsServiceRequest request, OtlpMapping mapping)
    {
        using var batch = OtlpLogsMapper.ToBatch(request, mapping, Now);
        return Rows(batch);
    }

    [Fact]
    public void Configured_resource_rules_come_after_the_default_list_so_defaults_win_for_their_names()
    {
        var mapping = new OtlpMapping
        {
            ResourceAttributes = OtlpMapping.ResourceRules(false, OtlpMapping.DefaultIndexLabelAttributes,
            [
                Rule(OtlpAttributeKind.Resource, "drop", "k8s\\..*"),
                Rule(OtlpAttributeKind.Resource, "index_label", null, "host.name", "k8s.node.name"),
            ]),
        };

        var row = Assert.Single(Map(Request(
            [Attr("service.name", "api"), Attr("k8s.pod.name", "p1"), Attr("k8s.node.name", "n1"), Attr("host.name", "h1"), Attr("os.type", "linux")],
            null, Record("x")), mapping));

        // k8s.pod.name matches the default rule first; k8s.node.name reaches the drop regex before the index_label list.
        Assert.Equal("""{host_name="h1", k8s_pod_name="p1", service_name="api"}""", row.Labels);
        Assert.Equal("os_type=linux", row.Metadata);
    }

    [Fact]
    public void Ignore_defaults_leaves_default_list_attributes_as_structured_metadata()
    {
        var mapping = new OtlpMapping
        {
            ResourceAttributes = OtlpMapping.ResourceRules(true, OtlpMapping.DefaultIndexLabelAttributes,
                [Rule(OtlpAttributeKind.Resource, "index_label", null, "team.name")]),
            DiscoverServiceName = ["team_name"],
        };

        var row = Assert.Single(Map(Request([Attr("k8s.pod.name", "p1"), Attr("team.name", "payments")], null, Record("x")), mapping));
        Assert.Equal("""{service_name="payments", team_name="payments"}""", row.Labels);
        Assert.Equal("k8s_pod_name=p1", row.Metadata);
    }

    [Fact]
    public void A_dropped_service_name_still_counts_as_present_so_no_fallback_is_added()
    {
        var mapping = new OtlpMapping
        {
            ResourceAttributes = OtlpMapping.ResourceRules(true, OtlpMapping.DefaultIndexLabelAttributes,
                [Rule(OtlpAttributeKind.Resource, "drop", null, "service.name"), Rule(OtlpAttributeKind.Resource, "index_label", null, "k8s.pod.name")]),
            DiscoverServiceName = ["k8s_pod_name"],
        };

        var row = Assert.Single(Map(Request([Attr("service.name", "api"), Attr("k8s.pod.name", "p1")], null, Record("x")), mapping));
        Assert.Equal("""{k8s_pod_name="p1"}""", row.Labels);
        Assert.Equal("", row.Metadata);
    }

    [Fact]
    public void Regexes_match_the_whole_attribute_name_as_sent()
    {
        var rule = Rule(OtlpAttributeKind.Log, "drop", "http\\.req.*");
        Assert.True(rule.Matches("http.request.method"));
        Assert.False(rule.Matches("x.http.request"));
        Assert.False(Rule(OtlpAttributeKind.Log, "drop", "host").Matches("host.name"));
        Assert.True(Rule(OtlpAttributeKind.Log, "drop", "a.b").Matches("a\nb"));
    }

    [Fact]
    public void Scope_and_log_rules_drop_or_keep_attributes_and_unmatched_ones_stay_metadata()
    {
        var mapping = new OtlpMapping
        {
            ScopeAttributes = [Rule(OtlpAttributeKind.Scope, "drop", null, "lib.internal")],
            LogAttributes = [Rule(OtlpAttributeKind.Log, "drop", "debug\\..*"), Rule(OtlpAttributeKind.Log, "", null, "user.id")],
        };
        var scope = new InstrumentationScope { Name = "io.lib" };
        scope.Attributes.Add(Attr("lib.internal", "1"));
        scope.Attributes.Add(Attr("lib.public", "2"));

        var row = Assert.Single(Map(Request([Attr("service.name", "api")], scope,
            Record("x", attributes: [Attr("debug.trace", "t"), Attr("user.id", "u7"), Attr("http.status", "200")])), mapping));
        Assert.Equal("""{service_name="api"}""", row.Labels);
        Assert.Equal("user_id=u7, http_status=200, lib_public=2, scope_name=io.lib", row.Metadata);
    }

    [Fact]
    public void Log_attributes_made_index_labels_split_records_into_their_own_streams()
    {
        var mapping = new OtlpMapping
        {
            LogAttributes = [Rule(OtlpAttributeKind.Log, "index_label", null, "tenant.tier", "service.name")],
            SeverityTextAsLabel = true,
        };
        var error = Record("boom", attributes: Attr("tenant.tier", "gold"));
        error.SeverityText = "ERROR";

        var rows = Map(Request([Attr("service.name", "api")], null,
            Record("plain"), error, Record("override", attributes: Attr("service.name", "other"))), mapping);

        Assert.Equal(3, rows.Count);
        Assert.Equal(("""{service_name="api"}""", "plain", ""), (rows[0].Labels, rows[0].Line, rows[0].Metadata));
        Assert.Equal(("""{service_name="api", severity_text="ERROR", tenant_tier="gold"}""", "boom", "severity_text=ERROR"),
            (rows[1].Labels, rows[1].Line, rows[1].Metadata));

        // A record's index label replaces the resource label of the same name.
        Assert.Equal(("""{service_name="other"}""", "override"), (rows[2].Labels, rows[2].Line));
    }

    [Theory]
    [InlineData(OtlpAttributeKind.Resource, "label", "a", null, "unsupported action, it must be one of: drop, index_label, structured_metadata")]
    [InlineData(OtlpAttributeKind.Log, "drop", null, null, "attributes or regex must be set")]
    [InlineData(OtlpAttributeKind.Log, "drop", "a", "a.*", "only one of attributes or regex must be set")]
    [InlineData(OtlpAttributeKind.Scope, "index_label", "a", null, "index_label action is only supported for resource_attributes")]
    public void Invalid_rules_are_rejected_with_lokis_texts(OtlpAttributeKind kind, string action, string? attribute, string? regex, string message)
    {
        var e = Assert.Throws<FormatException>(() => OtlpAttributeRule.Parse(kind, action, attribute is null ? [] : [attribute], regex));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Index_labels_are_allowed_for_log_attributes_and_a_bad_regex_is_rejected()
    {
        Assert.Equal(OtlpAttributeAction.IndexLabel, Rule(OtlpAttributeKind.Log, "index_label", null, "a").Action);
        Assert.Equal(OtlpAttributeAction.StructuredMetadata, Rule(OtlpAttributeKind.Scope, "", null, "a").Action);
        var e = Assert.Throws<FormatException>(() => Rule(OtlpAttributeKind.Resource, "drop", "(unclosed"));
        Assert.Contains("missing closing )", e.Message, StringComparison.Ordinal);
    }
}
