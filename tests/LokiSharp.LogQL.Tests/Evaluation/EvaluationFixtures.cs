using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.LogQL.Tests.Evaluation;

/// <summary>One literal stream: its labels and its samples (seconds, value).</summary>
internal sealed record TestStream(LabelSet Labels, List<(long TimestampNs, double Value)> Points);

/// <summary>
/// An in-memory sample source over literal streams: selects streams by the selector's matchers and yields each
/// stream's points as samples; without unwrap and outside bytes_* every sample is worth 1, as a log line is.
/// </summary>
internal sealed class InMemorySampleSource : ISampleSource
{
    private readonly List<TestStream> _streams = [];

    public List<SampleSelection> Selections { get; } = [];

    public InMemorySampleSource Add(string labels, params (double Seconds, double Value)[] points)
    {
        _streams.Add(new TestStream(Labels(labels), [.. points.Select(p => (Ns(p.Seconds), p.Value))]));
        return this;
    }

    public InMemorySampleSource AddNs(LabelSet labels, List<(long TimestampNs, double Value)> points)
    {
        _streams.Add(new TestStream(labels, points));
        return this;
    }

    public IReadOnlyList<TestStream> Streams => _streams;

    public IReadOnlyList<ISampleCursor> Select(SampleSelection selection, CancellationToken cancellationToken)
    {
        Selections.Add(selection);
        var countOnly = selection.Range.Unwrap is null && !RangeFunction.Of(selection.Aggregation.Op).CountsBytes;
        var cursors = new List<ISampleCursor>();
        foreach (var stream in _streams)
        {
            if (!selection.Range.Left.Matchers.All(m => m.Matches(stream.Labels.Get(m.Name) ?? string.Empty)))
            {
                continue;
            }

            var points = countOnly ? stream.Points.Select(p => (p.TimestampNs, 1.0)).ToList() : stream.Points;
            cursors.Add(new SeriesSampleCursor(stream.Labels, points, selection.StartExclusiveNs, selection.EndInclusiveNs));
        }

        return cursors;
    }

    public static long Ns(double seconds) => (long)Math.Round(seconds * 1e9);

    /// <summary>Parses <c>a=1,b=2</c> (no quotes, no spaces) into a label set.</summary>
    public static LabelSet Labels(string text) => text.Length == 0
        ? LabelSet.Empty
        : LabelSet.From(text.Split(',').Select(p => p.Split('=', 2)).Select(p => new LabelPair(p[0], p[1])));
}

internal static class Eval
{
    public static SampleExpr Parse(string query) => (SampleExpr)LogQLParser.Parse(query);

    public static MetricResult Range(ISampleSource source, string query, double start, double end, double step, MetricQueryLimits? limits = null) =>
        new MetricQueryEvaluator(source, limits).Evaluate(Parse(query),
            MetricQueryParameters.Range(InMemorySampleSource.Ns(start), InMemorySampleSource.Ns(end), InMemorySampleSource.Ns(step)));

    public static MetricResult Instant(ISampleSource source, string query, double time, MetricQueryLimits? limits = null) =>
        new MetricQueryEvaluator(source, limits).Evaluate(Parse(query), MetricQueryParameters.Instant(InMemorySampleSource.Ns(time)));

    /// <summary>A matrix as text: one line per series, <c>{labels} t=v t=v</c> with seconds and Loki's value format.</summary>
    public static string Render(MetricResult result) => result switch
    {
        MatrixResult m => string.Join("\n", m.Series.Select(s =>
            s.Labels + " " + string.Join(" ", s.Points.Select(p => MetricValueFormat.FormatTimestamp(p.TimestampMs) + "=" + MetricValueFormat.FormatValue(p.Value))))),
        VectorResult v => string.Join("\n", v.Samples.Select(s =>
            s.Labels + " " + MetricValueFormat.FormatTimestamp(s.TimestampMs) + "=" + MetricValueFormat.FormatValue(s.Value))),
        ScalarResult s => "scalar " + MetricValueFormat.FormatTimestamp(s.TimestampMs) + "=" + MetricValueFormat.FormatValue(s.Value),
        _ => throw new ArgumentOutOfRangeException(nameof(result)),
    };
}
