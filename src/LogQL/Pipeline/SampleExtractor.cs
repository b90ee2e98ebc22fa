using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>What a sample's value is taken from.</summary>
public enum SampleSource
{
    /// <summary>1 per surviving line (<c>count_over_time</c>, <c>rate</c>, <c>absent_over_time</c>).</summary>
    Count,

    /// <summary>The line's length in bytes after the pipeline (<c>bytes_over_time</c>, <c>bytes_rate</c>).</summary>
    Bytes,

    /// <summary>The converted value of the <c>unwrap</c>ped label.</summary>
    Unwrap,
}

/// <summary>
/// Turns log entries into samples for a range aggregation, compiled once per query from a <see cref="LogRangeExpr"/>:
/// the log pipeline, then the value (count, bytes or unwrapped label with Loki's conversions and
/// <c>SampleExtractionErr</c>), then the unwrap's post filters, then the output labels (the unwrapped label removed;
/// <c>by</c>/<c>without</c> applied when given, except on errored samples, whose labels are kept whole as Loki does).
/// Not thread-safe, like <see cref="LogPipeline"/>.
/// </summary>
public sealed class SampleExtractor
{
    private readonly LogPipeline _pipeline;
    private readonly LabelPredicate[] _postFilters;
    private readonly Dictionary<LabelSet, StreamSampleExtractor> _streams = [];

    private SampleExtractor(LogPipeline pipeline, SampleSource source, UnwrapExpr? unwrap, LabelPredicate[] postFilters, Grouping? grouping)
    {
        _pipeline = pipeline;
        Source = source;
        Unwrap = unwrap;
        _postFilters = postFilters;
        Grouping = grouping;

        // Loki's rules: "by ()"/"without ()" drop every label; unwrap without "by" removes the unwrapped label.
        var names = new HashSet<string>(grouping?.Labels ?? [], StringComparer.Ordinal);
        if (grouping is { Labels.IsEmpty: true })
        {
            LabelMode = OutputLabelMode.None;
        }
        else if (grouping is { Without: false })
        {
            LabelMode = OutputLabelMode.Keep;
        }
        else if (grouping is not null || unwrap is not null)
        {
            LabelMode = OutputLabelMode.Remove;
            if (unwrap is not null)
            {
                names.Add(unwrap.Identifier);
            }
        }
        else
        {
            LabelMode = OutputLabelMode.All;
        }

        GroupLabels = names;
    }

    internal OutputLabelMode LabelMode { get; }

    internal HashSet<string> GroupLabels { get; }

    /// <summary>Where values come from.</summary>
    public SampleSource Source { get; }

    /// <summary>The unwrap clause, when <see cref="Source"/> is <see cref="SampleSource.Unwrap"/>.</summary>
    public UnwrapExpr? Unwrap { get; }

    /// <summary>The grouping applied to output labels, if any.</summary>
    public Grouping? Grouping { get; }

    /// <summary>The compiled log pipeline (its <see cref="LogPipeline.LiteralRequirements"/> serve block skipping).</summary>
    public LogPipeline Pipeline => _pipeline;

    /// <summary>
    /// Compiles the extractor of a range aggregation. <paramref name="grouping"/> is the aggregation's own
    /// <c>by</c>/<c>without</c> (or one pushed down from an enclosing vector aggregation by the caller).
    /// </summary>
    /// <exception cref="Syntax.LogQLParseException">A stage cannot be built.</exception>
    public static SampleExtractor Compile(RangeOp op, LogRangeExpr range, Grouping? grouping = null)
    {
        var source = range.Unwrap is not null ? SampleSource.Unwrap
            : op is RangeOp.BytesOverTime or RangeOp.BytesRate ? SampleSource.Bytes
            : SampleSource.Count;
        IEnumerable<StageExpr> stages = range.Left is PipelineExpr p ? p.Stages : [];
        if (source != SampleSource.Bytes)
        {
            stages = WithoutUselessLineFormats([.. stages]);
        }

        var postFilters = new List<LabelPredicate>();
        if (range.Unwrap is { } unwrap)
        {
            foreach (var filter in unwrap.PostFilters)
            {
                postFilters.Add(LabelPredicate.Compile(filter));
            }
        }

        return new SampleExtractor(LogPipeline.Compile(stages), source, range.Unwrap, [.. postFilters], grouping);
    }

    // Loki drops a line_format that no later parser or line filter reads: only bytes_* look at the line itself.
    private static List<StageExpr> WithoutUselessLineFormats(List<StageExpr> stages)
    {
        var kept = new List<StageExpr>(stages.Count);
        for (var i = 0; i < stages.Count; i++)
        {
            if (stages[i] is LineFormatStage)
            {
                var needed = false;
                for (var j = i; j < stages.Count && !needed; j++)
                {
                    needed = stages[j] is LineFilterStage or JsonParserStage or LogfmtParserStage or RegexpParserStage or PatternParserStage or UnpackParserStage;
                }

                if (!needed)
                {
                    continue;
                }
            }

            kept.Add(stages[i]);
        }

        return kept;
    }

    /// <summary>The extractor for one stream (cached per label set).</summary>
    public StreamSampleExtractor ForStream(LabelSet streamLabels)
    {
        if (!_streams.TryGetValue(streamLabels, out var stream))
        {
            stream = new StreamSampleExtractor(this, _pipeline.ForStream(streamLabels), _postFilters);
            _streams[streamLabels] = stream;
        }

        return stream;
    }

    internal LabelsResultCache Results => _pipeline.Results;
}

/// <summary>How a sample's output labels derive from the entry's labels.</summary>
internal enum OutputLabelMode
{
    All,
    Keep,
    Remove,
    None,
}

/// <summary>Extracts samples from the entries of one stream.</summary>
public sealed class StreamSampleExtractor
{
    private readonly SampleExtractor _owner;
    private readonly StreamPipeline _pipeline;
    private readonly LabelPredicate[] _postFilters;
    private readonly Dictionary<LabelsResult, LabelsResult> _grouped = new(ReferenceEqualityComparer.Instance);

    internal StreamSampleExtractor(SampleExtractor owner, StreamPipeline pipeline, LabelPredicate[] postFilters)
    {
        _owner = owner;
        _pipeline = pipeline;
        _postFilters = postFilters;
    }

    /// <summary>
    /// Runs one entry. Returns false when the pipeline or a post filter drops it, or when the unwrapped label is
    /// missing or empty; otherwise the sample's value and output labels (a conversion failure gives 0 with
    /// <c>__error__="SampleExtractionErr"</c>).
    /// </summary>
    public bool Process(long timestampNs, ReadOnlySpan<byte> line, ReadOnlySpan<LabelPair> structuredMetadata, out double value,
        out LabelsResult labels)
    {
        value = 0;
        labels = null!;
        if (!_pipeline.Run(timestampNs, ref line, structuredMetadata))
        {
            return false;
        }

        var state = _pipeline.Labels;
        switch (_owner.Source)
        {
            case SampleSource.Count:
                value = 1;
                break;
            case SampleSource.Bytes:
                value = line.Length;
                break;
            default:
                {
                    var unwrap = _owner.Unwrap!;
                    var text = state.Get(unwrap.Identifier);
                    if (string.IsNullOrEmpty(text))
                    {
                        return false;
                    }

                    if (!TryConvert(unwrap.Conversion, text, out value, out var error))
                    {
                        value = 0;
                        state.SetError(PipelineLabels.SampleExtractionError, error);
                    }

                    foreach (var filter in _postFilters)
                    {
                        if (!filter.Test(state))
                        {
                            return false;
                        }
                    }

                    break;
                }
        }

        labels = OutputLabels(state);
        return true;
    }

    private LabelsResult OutputLabels(LineLabels state)
    {
        var full = state.ToResult();
        // Errored samples keep every label (the unwrapped one included) so the error stays visible, as in Loki.
        if (state.HasError || _owner.LabelMode == OutputLabelMode.All)
        {
            return full;
        }

        if (_grouped.TryGetValue(full, out var cached))
        {
            return cached;
        }

        var pairs = new List<LabelPair>();
        if (_owner.LabelMode != OutputLabelMode.None)
        {
            foreach (var pair in full.All)
            {
                var listed = _owner.GroupLabels.Contains(pair.Name);
                if (listed == (_owner.LabelMode == OutputLabelMode.Keep))
                {
                    pairs.Add(pair);
                }
            }
        }

        var all = LabelSet.From(pairs);
        var result = _owner.Results.Get(all.AsSpan(), state);
        if (_grouped.Count < 4096)
        {
            _grouped[full] = result;
        }

        return result;
    }

    /// <summary>Loki's unwrap conversions: float (Go <c>ParseFloat</c>), humanised bytes, Go durations in seconds.</summary>
    public static bool TryConvert(UnwrapConversion conversion, string text, out double value, out string? error)
    {
        value = 0;
        error = null;
        switch (conversion)
        {
            case UnwrapConversion.Bytes:
                if (HumanBytes.TryParse(text, out var bytes, out error))
                {
                    value = bytes;
                    return true;
                }

                return false;
            case UnwrapConversion.Duration or UnwrapConversion.DurationSeconds:
                if (GoDuration.TryParseGo(text, out error) is { } d)
                {
                    value = d.TotalSeconds;
                    return true;
                }

                return false;
            default:
                return GoFloat.TryParse(text, out value, out error);
        }
    }
}
