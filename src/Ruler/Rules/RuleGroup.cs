using LokiSharp.LogQL.Text;

namespace LokiSharp.Ruler.Rules;

/// <summary>
/// A rule group: rules evaluated in order every <see cref="Interval"/> (null: the ruler's <c>evaluation_interval</c>),
/// with Prometheus' optional alert/series <see cref="Limit"/> (0: none), <c>query_offset</c> and group labels.
/// </summary>
public sealed record RuleGroup(
    string Name,
    GoDuration? Interval,
    GoDuration? QueryOffset,
    int Limit,
    IReadOnlyList<KeyValuePair<string, string>> Labels,
    IReadOnlyList<RuleDefinition> Rules);
