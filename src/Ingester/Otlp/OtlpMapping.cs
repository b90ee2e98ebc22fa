using System.Text.RegularExpressions;
using LokiSharp.LogQL.Text;

namespace LokiSharp.Ingester.Otlp;

/// <summary>
/// The settings that shape how OTLP logs become Loki streams (Loki's per-tenant <c>otlp_config</c>): which
/// resource, scope and log attributes are index labels, structured metadata or dropped, and which index labels
/// may stand in for a missing <c>service.name</c>.
/// </summary>
public sealed record OtlpMapping
{
    /// <summary>Loki's <c>distributor.otlp_config.default_resource_attributes_as_index_labels</c>.</summary>
    public static IReadOnlyList<string> DefaultIndexLabelAttributes { get; } =
    [
        "service.name",
        "service.namespace",
        "service.instance.id",
        "deployment.environment",
        "deployment.environment.name",
        "cloud.region",
        "cloud.availability_zone",
        "k8s.cluster.name",
        "k8s.namespace.name",
        "k8s.pod.name",
        "k8s.container.name",
        "container.name",
        "k8s.replicaset.name",
        "k8s.deployment.name",
        "k8s.statefulset.name",
        "k8s.daemonset.name",
        "k8s.cronjob.name",
        "k8s.job.name",
    ];

    /// <summary>Rules for resource attributes, first match wins; by default the default list as index labels.</summary>
    public IReadOnlyList<OtlpAttributeRule> ResourceAttributes { get; init; } =
        [OtlpAttributeRule.ForNames(OtlpAttributeAction.IndexLabel, DefaultIndexLabelAttributes)];

    /// <summary>Rules for scope attributes (never index labels).</summary>
    public IReadOnlyList<OtlpAttributeRule> ScopeAttributes { get; init; } = [];

    /// <summary>Rules for log record attributes.</summary>
    public IReadOnlyList<OtlpAttributeRule> LogAttributes { get; init; } = [];

    /// <summary>Whether a record's <c>severity_text</c> is also an index label (<c>severity_text_as_label</c>).</summary>
    public bool SeverityTextAsLabel { get; init; }

    /// <summary>
    /// The tenant's <c>discover_service_name</c> list, matched against the sanitised index labels; empty turns
    /// the <c>service_name</c> fallback off.
    /// </summary>
    public IReadOnlyList<string> DiscoverServiceName { get; init; } = [];

    /// <summary>
    /// Builds the resource rules as Loki applies them: unless <paramref name="ignoreDefaults"/>, a rule making
    /// <paramref name="defaultIndexLabels"/> index labels goes before the configured ones (so it wins for those names).
    /// </summary>
    public static IReadOnlyList<OtlpAttributeRule> ResourceRules(bool ignoreDefaults, IReadOnlyList<string> defaultIndexLabels,
        IReadOnlyList<OtlpAttributeRule> configured)
    {
        ArgumentNullException.ThrowIfNull(defaultIndexLabels);
        ArgumentNullException.ThrowIfNull(configured);
        if (ignoreDefaults || defaultIndexLabels.Count == 0)
        {
            return configured;
        }

        var rules = new List<OtlpAttributeRule>(configured.Count + 1)
        {
            OtlpAttributeRule.ForNames(OtlpAttributeAction.IndexLabel, defaultIndexLabels),
        };
        rules.AddRange(configured);
        return rules;
    }

    /// <summary>The action of the first rule matching the attribute name as sent; structured metadata when none does.</summary>
    public static OtlpAttributeAction ActionFor(IReadOnlyList<OtlpAttributeRule> rules, string attribute)
    {
        ArgumentNullException.ThrowIfNull(rules);
        for (var i = 0; i < rules.Count; i++)
        {
            if (rules[i].Matches(attribute))
            {
                return rules[i].Action;
            }
        }

        return OtlpAttributeAction.StructuredMetadata;
    }
}

/// <summary>What happens to an OTLP attribute.</summary>
public enum OtlpAttributeAction
{
    /// <summary>Stored with each entry as structured metadata (the default).</summary>
    StructuredMetadata,

    /// <summary>Becomes a stream label.</summary>
    IndexLabel,

    /// <summary>Discarded.</summary>
    Drop,
}

/// <summary>The kind of attribute an <c>otlp_config</c> rule list applies to, which decides the allowed actions.</summary>
public enum OtlpAttributeKind
{
    /// <summary><c>resource_attributes.attributes_config</c>.</summary>
    Resource,

    /// <summary><c>scope_attributes</c>: index labels are not allowed.</summary>
    Scope,

    /// <summary><c>log_attributes</c>.</summary>
    Log,
}

/// <summary>One <c>otlp_config</c> rule: an action for attributes named in a list or whose whole name matches a regex.</summary>
public sealed class OtlpAttributeRule
{
    private readonly HashSet<string>? _names;
    private readonly Regex? _regex;

    private OtlpAttributeRule(OtlpAttributeAction action, HashSet<string>? names, Regex? regex, string? pattern)
    {
        Action = action;
        _names = names;
        _regex = regex;
        Pattern = pattern;
    }

    /// <summary>What to do with matching attributes.</summary>
    public OtlpAttributeAction Action { get; }

    /// <summary>The configured regex, when the rule uses one.</summary>
    public string? Pattern { get; }

    /// <summary>A rule for an exact list of names.</summary>
    public static OtlpAttributeRule ForNames(OtlpAttributeAction action, IEnumerable<string> names) =>
        new(action, new HashSet<string>(names, StringComparer.Ordinal), null, null);

    /// <summary>
    /// Validates and compiles a rule as Loki reads one from YAML: an empty action means structured metadata, exactly
    /// one of <paramref name="attributes"/> and <paramref name="regex"/> must be given, and the regex is anchored at
    /// both ends (Prometheus relabel semantics).
    /// </summary>
    /// <exception cref="FormatException">Loki's error text for an invalid rule.</exception>
    public static OtlpAttributeRule Parse(OtlpAttributeKind kind, string? action, IReadOnlyList<string>? attributes, string? regex)
    {
        var parsed = action switch
        {
            null or "" or "structured_metadata" => OtlpAttributeAction.StructuredMetadata,
            "index_label" => OtlpAttributeAction.IndexLabel,
            "drop" => OtlpAttributeAction.Drop,
            _ => throw new FormatException("unsupported action, it must be one of: drop, index_label, structured_metadata"),
        };

        var hasAttributes = attributes is { Count: > 0 };
        var hasRegex = !string.IsNullOrEmpty(regex);
        if (!hasAttributes && !hasRegex)
        {
            throw new FormatException("attributes or regex must be set");
        }

        if (hasAttributes && hasRegex)
        {
            throw new FormatException("only one of attributes or regex must be set");
        }

        if (kind == OtlpAttributeKind.Scope && parsed == OtlpAttributeAction.IndexLabel)
        {
            throw new FormatException("index_label action is only supported for resource_attributes");
        }

        if (hasAttributes)
        {
            return ForNames(parsed, attributes!);
        }

        // (?s) as in Prometheus' relabel.Regexp, which compiles ^(?s:pattern)$.
        var compiled = Re2Regex.TryCompile("(?s:" + regex + ")", anchored: true, out var error)
            ?? throw new FormatException(error ?? "invalid regex");
        return new OtlpAttributeRule(parsed, null, compiled, regex);
    }

    /// <summary>Whether the rule applies to an attribute name as sent (before sanitising).</summary>
    public bool Matches(string attribute) =>
        _regex is not null ? _regex.IsMatch(attribute) : _names!.Contains(attribute);
}
