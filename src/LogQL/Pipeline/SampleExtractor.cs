using System.Runtime.CompilerServices;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>What a sample's value is taken from.</summary>
public enum SampleValueSource
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
    private readonly LogPipeline? _hinted;
    private readonly LabelPredicate[] _postFilters;
    private readonly Dictionary<LabelSet, StreamSampleExtractor> _streams = [];

    private SampleExtractor(List<StageExpr> stages, SampleValueSource source, UnwrapExpr? unwrap, LabelPredicate[] postFilters, Grouping? grouping,
        bool parserHints)
    {
        _pipeline = LogPipeline.Compile(stages);
        Source = source;
        Unwrap = unwrap;
        _postFilters = postFilters;
        Grouping = grouping;

        // Loki's rules: "by ()" drops every label, "without ()" none; unwrap without "by" removes the unwrapped label.
        var names = new HashSet<string>(grouping?.Labels ?? [], StringComparer.Ordinal);
        if (grouping is { IsSingleton: true })
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
        GroupNames = [.. names];
        Hints = !parserHints ? null : ParserHints.For(stages, LabelMode switch
        {
            OutputLabelMode.Keep => names,
            OutputLabelMode.None => [],
            _ => null,
        }, unwrap);
        if (Hints is not null)
        {
            _hinted = LogPipeline.Compile(stages, Hints);
        }

        MetadataNamesRead = NamesMetadataCanChange(_pipeline, source, LabelMode, names);
        PatternKey = postFilters.Length == 0 && _hinted is null ? PatternOutputKey.For(_pipeline, source, LabelMode, names) : null;
    }

    /// <summary>
    /// When the pipeline is one pattern parser whose output labels depend on a few captures only: those captures (see
    /// <see cref="PatternSampleMemo"/>). Null otherwise.
    /// </summary>
    internal PatternOutputKey? PatternKey { get; }

    // Known only when samples keep named labels and every stage names the labels it writes up front
    // (PipelineStep.LabelsWrittenIfInert: line filters, pattern parsers). Then a metadata pair can change a sample only by
    // being kept (under its name or, taken by a stream label, its suffixed form), by taking a written label's name
    // (which the stage then writes with the suffix), or by being an error label.
    private static HashSet<string>? NamesMetadataCanChange(LogPipeline pipeline, SampleValueSource source, OutputLabelMode mode, HashSet<string> kept)
    {
        if (source == SampleValueSource.Unwrap || mode is not (OutputLabelMode.Keep or OutputLabelMode.None))
        {
            return null;
        }

        var names = new HashSet<string>(StringComparer.Ordinal) { PipelineLabels.Error, PipelineLabels.ErrorDetails };
        foreach (var step in pipeline.Stages)
        {
            if (step.LabelsWrittenIfInert is not { } written)
            {
                return null;
            }

            names.UnionWith(written);
        }

        foreach (var name in kept)
        {
            names.Add(name);
            if (name.EndsWith(PipelineLabels.DuplicateSuffix, StringComparison.Ordinal))
            {
                names.Add(name[..^PipelineLabels.DuplicateSuffix.Length]);
            }
        }

        return names;
    }

    internal OutputLabelMode LabelMode { get; }

    internal HashSet<string> GroupLabels { get; }

    internal string[] GroupNames { get; }

    internal ParserHints? Hints { get; }

    /// <summary>
    /// The parsed labels the <c>json</c>/<c>logfmt</c> parsers extract (Loki's parser hints), or null when they
    /// extract every label.
    /// </summary>
    public IReadOnlyCollection<string>? HintedLabels => Hints?.Names;

    /// <summary>Where values come from.</summary>
    public SampleValueSource Source { get; }

    /// <summary>
    /// The structured metadata names that can change a sample, when they are a known few; an entry whose metadata
    /// names none of them gives the same sample as the entry without metadata, so the reader may leave it out. Null
    /// when any name may matter (stages that read labels, parsers that extract names met in the line, samples keeping
    /// every label but some).
    /// </summary>
    public IReadOnlySet<string>? MetadataNamesRead { get; }

    /// <summary>The unwrap clause, when <see cref="Source"/> is <see cref="SampleValueSource.Unwrap"/>.</summary>
    public UnwrapExpr? Unwrap { get; }

    /// <summary>The grouping applied to output labels, if any.</summary>
    public Grouping? Grouping { get; }

    /// <summary>The compiled log pipeline (its <see cref="LogPipeline.LiteralRequirements"/> serve block skipping).</summary>
    public LogPipeline Pipeline => _pipeline;

    /// <summary>
    /// Compiles the extractor of a range aggregation. <paramref name="grouping"/> is the aggregation's own
    /// <c>by</c>/<c>without</c> (or one pushed down from an enclosing vector aggregation by the caller).
    /// </summary>
    /// <param name="op">The range aggregation.</param>
    /// <param name="range">Its log range.</param>
    /// <param name="grouping">The grouping of the output labels.</param>
    /// <param name="parserHints">Whether parsers may skip labels nothing observes (off only to compare results).</param>
    /// <exception cref="Syntax.LogQLParseException">A stage cannot be built.</exception>
    public static SampleExtractor Compile(RangeOp op, LogRangeExpr range, Grouping? grouping = null, bool parserHints = true)
    {
        var source = range.Unwrap is not null ? SampleValueSource.Unwrap
            : RangeFunction.Of(op).CountsBytes ? SampleValueSource.Bytes
            : SampleValueSource.Count;
        List<StageExpr> stages = range.Left is PipelineExpr p ? [.. p.Stages] : [];
        if (source != SampleValueSource.Bytes)
        {
            stages = WithoutUselessLineFormats(stages);
        }

        var postFilters = new List<LabelPredicate>();
        if (range.Unwrap is { } unwrap)
        {
            foreach (var filter in unwrap.PostFilters)
            {
                postFilters.Add(LabelPredicate.Compile(filter));
            }
        }

        return new SampleExtractor(stages, source, range.Unwrap, [.. postFilters], grouping, parserHints);
    }

    // Loki drops a line_format that no later parser or line filter reads: only bytes_* look at the line itself.
    private static List<StageExpr> WithoutUselessLineFormats(List<StageExpr> stages)
    {
        var kept = new List<StageExpr>(stages.Count);
        for (var i = 0; i < stages.Count; i++)
        {
            if (stages[i] is LineFormatExpr)
            {
                var needed = false;
                for (var j = i; j < stages.Count && !needed; j++)
                {
                    needed = stages[j] is LineFilterExpr or JsonParserExpr or LogfmtParserExpr or RegexpParserExpr or PatternParserExpr or UnpackParserExpr;
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
            stream = new StreamSampleExtractor(this, _pipeline.ForStream(streamLabels), _hinted?.ForStream(streamLabels), _postFilters);
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
    private readonly StreamPipeline? _hinted;
    private readonly LabelPredicate[] _postFilters;
    private readonly Dictionary<LabelsResult, LabelsResult> _grouped = new(ReferenceEqualityComparer.Instance);
    private readonly LabelPair[] _kept;
    private LabelPair[] _remaining = [];
    // Results of recently kept values (Keep and None modes) by the identity of the value strings, one per group name
    // (null when absent): stream labels and parsers' reused values are the very strings of earlier entries, so a
    // repeated or alternating value (status codes) finds its result without building and hashing the pairs.
    // 32 slots: a status code or level grouping has a handful of values, which 8 slots often made collide.
    private const int KeptSlotBits = 5;
    private const int KeptSlots = 1 << KeptSlotBits;
    private readonly string?[] _keptValues;
    private readonly string?[][] _slotValues = new string?[KeptSlots][];
    private readonly LabelsResult?[] _slotResults = new LabelsResult?[KeptSlots];

    // The pattern fast path (SampleExtractor.PatternKey), null without one.
    private readonly PatternSampleMemo? _memo;

    internal StreamSampleExtractor(SampleExtractor owner, StreamPipeline pipeline, StreamPipeline? hinted, LabelPredicate[] postFilters)
    {
        _memo = owner.PatternKey is { } key ? new PatternSampleMemo(key) : null;
        _owner = owner;
        _pipeline = pipeline;
        _hinted = hinted;
        _postFilters = postFilters;
        _kept = new LabelPair[owner.GroupNames.Length];
        _keptValues = new string?[owner.GroupNames.Length];
    }

    /// <summary>
    /// Runs one entry. Returns false when the pipeline or a post filter drops it, or when the unwrapped label is
    /// missing or empty; otherwise the sample's value and output labels (a conversion failure gives 0 with
    /// <c>__error__="SampleExtractionErr"</c>).
    /// </summary>
    public bool Process(long timestampNs, ReadOnlySpan<byte> line, ReadOnlySpan<LabelPair> structuredMetadata, out double value,
        out LabelsResult labels)
    {
        if (_memo is { IsOff: false } memo && structuredMetadata.IsEmpty)
        {
            return ProcessMemoised(memo, timestampNs, line, out value, out labels);
        }

        // Hints change only labels no stage reads, so drops and errors are the same with or without them; an errored
        // sample keeps all its labels, though, so only then the entry runs again with every label extracted.
        if (_hinted is not null && Extract(_hinted, timestampNs, line, structuredMetadata, out value, out labels, out var errored) is var kept &&
            !errored)
        {
            return kept;
        }

        return Extract(_pipeline, timestampNs, line, structuredMetadata, out value, out labels, out _);
    }

    private bool ProcessMemoised(PatternSampleMemo memo, long timestampNs, ReadOnlySpan<byte> line, out double value, out LabelsResult labels)
    {
        if (memo.TryGet(line, out labels, out var slot))
        {
            value = _owner.Source == SampleValueSource.Bytes ? line.Length : 1;
            return true;
        }

        if (!Extract(_pipeline, timestampNs, line, [], out value, out labels, out _))
        {
            return false;
        }

        memo.Remember(slot, labels);
        return true;
    }

    private bool Extract(StreamPipeline pipeline, long timestampNs, ReadOnlySpan<byte> line, ReadOnlySpan<LabelPair> structuredMetadata,
        out double value, out LabelsResult labels, out bool errored)
    {
        value = 0;
        labels = null!;
        errored = false;
        if (!pipeline.Run(timestampNs, ref line, structuredMetadata))
        {
            return false;
        }

        var state = pipeline.Labels;
        switch (_owner.Source)
        {
            case SampleValueSource.Count:
                value = 1;
                break;
            case SampleValueSource.Bytes:
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

        if (state.HasError && ReferenceEquals(pipeline, _hinted))
        {
            errored = true;
            return false;
        }

        labels = OutputLabels(state);
        return true;
    }

    private LabelsResult OutputLabels(LineLabels state)
    {
        // Errored samples keep every label (the unwrapped one included) so the error stays visible, as in Loki.
        if (state.HasError || _owner.LabelMode == OutputLabelMode.All)
        {
            return state.ToResult();
        }

        if (_owner.LabelMode is OutputLabelMode.Keep or OutputLabelMode.None)
        {
            // Only the kept labels matter: look them up instead of building the full set.
            var identity = 0;
            var names = _owner.GroupNames;
            for (var i = 0; i < names.Length; i++)
            {
                var name = names[i];
                var kept = name == PipelineLabels.ErrorDetails ? (state.ErrorDetails.Length != 0 ? state.ErrorDetails : null) : state.Get(name);
                _keptValues[i] = kept;
                if (kept is not null)
                {
                    identity = (identity * 31) + RuntimeHelpers.GetHashCode(kept);
                }
            }

            var slot = (int)((uint)(identity * -1640531535) >> (32 - KeptSlotBits));
            var values = _slotValues[slot] ??= new string?[_keptValues.Length];
            if (_slotResults[slot] is { } known && SameReferences(values, _keptValues))
            {
                return known;
            }

            var n = 0;
            for (var i = 0; i < names.Length; i++)
            {
                if (_keptValues[i] is { } kept)
                {
                    _kept[n++] = new LabelPair(names[i], kept);
                }
            }

            var found = _owner.Results.Get(_kept.AsSpan(0, n), state);
            _keptValues.CopyTo(values, 0);
            _slotResults[slot] = found;
            return found;
        }

        if (!state.IsUnchanged)
        {
            // Parsed labels can make every line its own set: leave the removed labels out of the snapshot rather than
            // building the full set first and a filtered copy of it after.
            var snapshot = state.Snapshot();
            if (_remaining.Length < snapshot.Length)
            {
                _remaining = new LabelPair[snapshot.Length];
            }

            var kept = 0;
            foreach (var pair in snapshot)
            {
                if (!_owner.GroupLabels.Contains(pair.Name))
                {
                    _remaining[kept++] = pair;
                }
            }

            return _owner.Results.Get(_remaining.AsSpan(0, kept), state);
        }

        var full = state.ToResult();
        if (_grouped.TryGetValue(full, out var cached))
        {
            return cached;
        }

        var pairs = new List<LabelPair>();
        foreach (var pair in full.All)
        {
            if (!_owner.GroupLabels.Contains(pair.Name))
            {
                pairs.Add(pair);
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

    private static bool SameReferences(string?[] a, string?[] b)
    {
        for (var i = 0; i < a.Length; i++)
        {
            if (!ReferenceEquals(a[i], b[i]))
            {
                return false;
            }
        }

        return true;
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
