using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation;

/// <summary>
/// A forward cursor over extracted samples in non-decreasing timestamp order. Each sample carries the labels of the
/// series it belongs to: the labels after the log pipeline, without the unwrapped label, with the range
/// aggregation's <c>by</c>/<c>without</c> applied or not (the evaluator applies the grouping again, which is
/// idempotent, except to samples carrying <c>__error__</c>, whose labels Loki keeps whole).
/// </summary>
/// <remarks>
/// Returning the same <see cref="LabelSet"/> instance for consecutive samples of one series lets the evaluator skip
/// re-deriving the series key; equal but distinct instances are also correct. Samples of one series that several
/// cursors share are ordered by timestamp, then by the labels of each cursor's first sample of that series, then by
/// the cursors' order in the list returned.
/// </remarks>
public interface ISampleCursor : IDisposable
{
    /// <summary>Moves to the next sample; false when the cursor is exhausted.</summary>
    bool MoveNext();

    /// <summary>The current sample's timestamp in Unix nanoseconds.</summary>
    long TimestampNs { get; }

    /// <summary>The current sample's value (1 per line, line bytes, or the unwrapped value).</summary>
    double Value { get; }

    /// <summary>The current sample's series labels.</summary>
    LabelSet Labels { get; }
}
