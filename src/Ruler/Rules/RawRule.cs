using LokiSharp.LogQL.Text;

namespace LokiSharp.Ruler.Rules;

/// <summary>A rule as decoded from YAML, before validation (Prometheus' <c>rulefmt.Rule</c>).</summary>
internal sealed record RawRule(
    string Record,
    string Alert,
    string Expr,
    GoDuration For,
    GoDuration KeepFiringFor,
    IReadOnlyList<KeyValuePair<string, string>> Labels,
    IReadOnlyList<KeyValuePair<string, string>> Annotations);
