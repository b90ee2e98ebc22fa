using LokiSharp.Ruler.Rules;

namespace LokiSharp.Ruler.Api;

/// <summary>
/// The filters of <c>GET /prometheus/api/v1/rules</c>: rule <c>type</c> (null: both), and the <c>file</c> (namespace),
/// <c>rule_group</c> and <c>rule_name</c> values (empty: all).
/// </summary>
public sealed record RulesRequest(RuleKind? Type, IReadOnlyList<string> Files, IReadOnlyList<string> Groups, IReadOnlyList<string> Names)
{
    /// <summary>Every rule.</summary>
    public static RulesRequest All { get; } = new(null, [], [], []);

    /// <summary>Parses <c>type</c> as Loki does; null and Loki's error text when it is neither <c>alert</c> nor <c>record</c>.</summary>
    public static RulesRequest? Parse(string? type, IReadOnlyList<string> files, IReadOnlyList<string> groups, IReadOnlyList<string> names,
        out string? error)
    {
        error = null;
        RuleKind? kind = null;
        var lowered = (type ?? "").ToLowerInvariant();
        switch (lowered)
        {
            case "":
                break;
            case "alert":
                kind = RuleKind.Alerting;
                break;
            case "record":
                kind = RuleKind.Recording;
                break;
            default:
                error = "not supported value \"" + lowered + "\"";
                return null;
        }

        return new RulesRequest(kind, files, groups, names);
    }
}
