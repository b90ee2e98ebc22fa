using LokiSharp.LogQL.Labels;

namespace LokiSharp.Ruler.State;

/// <summary>One pending or firing alert as kept for a restart: its rule, labels and since when it has been active.</summary>
public sealed record SavedAlert(string Rule, LabelSet Labels, DateTimeOffset ActiveAt);
