namespace LokiSharp.Ruler.State;

/// <summary>A group's active alerts at its last evaluation before a restart (the "down" time of the restore).</summary>
public sealed record SavedGroupState(DateTimeOffset EvaluatedAt, IReadOnlyList<SavedAlert> Alerts);
