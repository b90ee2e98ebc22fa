namespace LokiSharp.Ruler.Alerting;

/// <summary>
/// The result of one evaluation of an alerting rule: the <c>ALERTS</c> and <c>ALERTS_FOR_STATE</c> samples at
/// <see cref="Time"/> (the evaluation time minus the query offset), or Prometheus' error text.
/// </summary>
public sealed record AlertEvaluation(DateTimeOffset Time, IReadOnlyList<RuleSample> Series, string? Error);
