using LokiSharp.LogQL.Labels;

namespace LokiSharp.Compactor.Retention;

/// <summary>A <c>retention_stream</c> rule: streams matching every matcher keep their data for <see cref="Period"/>.</summary>
/// <param name="Matchers">The rule's selector.</param>
/// <param name="Priority">Higher wins when several rules match.</param>
/// <param name="Period">How long matching streams are kept; zero keeps them forever.</param>
public sealed record StreamRetentionRule(IReadOnlyList<LabelMatcher> Matchers, int Priority, TimeSpan Period)
{
    /// <summary>Whether the stream matches every matcher (a missing label counts as the empty value).</summary>
    public bool Matches(LabelSet labels)
    {
        foreach (var m in Matchers)
        {
            if (!m.Matches(labels.Get(m.Name) ?? string.Empty))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// One tenant's retention: the global <c>retention_period</c> and its <c>retention_stream</c> rules. Zero
/// periods keep data forever, as in Loki.
/// </summary>
/// <param name="Period">Retention of streams no rule matches.</param>
/// <param name="Streams">Per-stream rules.</param>
public sealed record RetentionPolicy(TimeSpan Period, IReadOnlyList<StreamRetentionRule> Streams)
{
    /// <summary>No retention: everything is kept.</summary>
    public static RetentionPolicy KeepForever { get; } = new(TimeSpan.Zero, []);

    /// <summary>
    /// The retention of a stream: among matching rules the highest priority wins, ties go to the longest
    /// period (Loki's order); without a matching rule, the global period.
    /// </summary>
    public TimeSpan PeriodFor(LabelSet labels)
    {
        StreamRetentionRule? best = null;
        foreach (var rule in Streams)
        {
            if (!rule.Matches(labels))
            {
                continue;
            }

            if (best is null || rule.Priority > best.Priority ||
                (rule.Priority == best.Priority && rule.Period > best.Period))
            {
                best = rule;
            }
        }

        return best?.Period ?? Period;
    }
}
