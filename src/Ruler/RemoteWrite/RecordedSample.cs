using LokiSharp.LogQL.Labels;

namespace LokiSharp.Ruler.RemoteWrite;

/// <summary>
/// One sample of a recording rule: the series' labels (the rule's <c>record</c> as <c>__name__</c>, the rule's
/// labels and the ruler's external labels already applied), the evaluation time in Unix ms and the value.
/// </summary>
public readonly record struct RecordedSample(LabelSet Labels, long TimestampMs, double Value);
