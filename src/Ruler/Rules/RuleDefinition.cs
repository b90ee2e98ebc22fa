using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Text;

namespace LokiSharp.Ruler.Rules;

/// <summary>
/// One valid rule of a group, as Prometheus' <c>rulefmt.Rule</c> holds it: the alert or record name, the LogQL
/// metric query (text and parsed), <c>for</c>, <c>keep_firing_for</c>, labels and annotations in file order
/// (label values and annotations of alerting rules are templates).
/// </summary>
public sealed record RuleDefinition(
    RuleKind Kind,
    string Name,
    string Expr,
    SampleExpr Query,
    GoDuration For,
    GoDuration KeepFiringFor,
    IReadOnlyList<KeyValuePair<string, string>> Labels,
    IReadOnlyList<KeyValuePair<string, string>> Annotations);
