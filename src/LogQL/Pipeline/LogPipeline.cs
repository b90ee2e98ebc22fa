using System.Text;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Literals;
using LokiSharp.LogQL.Syntax;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// A log pipeline compiled once per query from the stages of a log selector. <see cref="ForStream"/> gives the
/// per-stream processor. Not thread-safe: stages keep scratch buffers, so each thread compiles its own pipeline.
/// </summary>
public sealed class LogPipeline
{
    private readonly PipelineStep[] _stages;
    private readonly LabelsResultCache _results = new();
    private readonly Dictionary<LabelSet, StreamPipeline> _streams = [];

    internal LogPipeline(PipelineStep[] stages, IReadOnlyList<LiteralRequirement> requirements)
    {
        _stages = stages;
        LiteralRequirements = requirements;
        var required = new List<string>();
        foreach (var r in requirements)
        {
            if (r.AnyOf.Count == 1 && !r.IgnoreCase)
            {
                required.Add(Encoding.UTF8.GetString(r.AnyOf[0]));
            }
        }

        RequiredLiterals = required;
    }

    /// <summary>The compiled stages, in order.</summary>
    public IReadOnlyList<PipelineStep> Stages => _stages;

    /// <summary>Whether the pipeline has no stages (entries pass unchanged).</summary>
    public bool IsNoop => _stages.Length == 0;

    /// <summary>
    /// What the line filters before any line-rewriting stage require of the original line, for block skipping.
    /// </summary>
    public IReadOnlyList<LiteralRequirement> LiteralRequirements { get; }

    /// <summary>
    /// The case-sensitive literals every matching line must contain (the single-alternative subset of
    /// <see cref="LiteralRequirements"/>), in the shape Storage's line filter takes.
    /// </summary>
    public IReadOnlyList<string> RequiredLiterals { get; }

    internal LabelsResultCache Results => _results;

    /// <summary>Compiles the pipeline of a log query (no stages for a bare selector).</summary>
    /// <exception cref="LogQLParseException">A stage cannot be built (bad regex, template, pattern...).</exception>
    public static LogPipeline Compile(LogSelectorExpr expr) =>
        expr is PipelineExpr p ? Compile(p.Stages) : Compile([]);

    /// <summary>Compiles a list of stages.</summary>
    /// <exception cref="LogQLParseException">A stage cannot be built.</exception>
    public static LogPipeline Compile(IEnumerable<StageExpr> stages) => Compile(stages, null);

    /// <summary>Compiles a list of stages whose <c>json</c>/<c>logfmt</c> parsers extract only what <paramref name="hints"/> allow.</summary>
    internal static LogPipeline Compile(IEnumerable<StageExpr> stages, ParserHints? hints)
    {
        var compiled = new List<PipelineStep>();
        var requirements = new List<LiteralRequirement>();
        var lineRewritten = false;
        List<StageExpr> list = [.. stages];
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is JsonParserExpr { Extractions.IsEmpty: true } && i + 1 < list.Count && list[i + 1] is LabelFilterExpr expr)
            {
                // A json parser followed by a label filter stops walking a line as soon as the filter is sure to drop
                // it: the filter is compiled first, and the parser once, with the filter's verdict.
                var filter = (LabelFilterStep)StageCompiler.Compile(expr, lineRewritten ? null : requirements, hints);
                compiled.Add(new JsonParserStep(hints, EarlyFilterVerdict.For(expr.Filter, filter.Predicate)));
                compiled.Add(filter);
                i++;
                continue;
            }

            var step = StageCompiler.Compile(list[i], lineRewritten ? null : requirements, hints);
            compiled.Add(step);
            lineRewritten |= step.RewritesLine;
        }

        return new LogPipeline([.. compiled], requirements);
    }

    /// <summary>The processor for one stream (cached per label set).</summary>
    public StreamPipeline ForStream(LabelSet streamLabels)
    {
        if (!_streams.TryGetValue(streamLabels, out var stream))
        {
            stream = new StreamPipeline(_stages, new LineLabels(streamLabels, _results), _results);
            _streams[streamLabels] = stream;
        }

        return stream;
    }
}

/// <summary>Runs a compiled pipeline over the entries of one stream.</summary>
public sealed class StreamPipeline
{
    private readonly PipelineStep[] _stages;
    private readonly LabelsResultCache _results;

    internal StreamPipeline(PipelineStep[] stages, LineLabels labels, LabelsResultCache results)
    {
        _stages = stages;
        Labels = labels;
        _results = results;
    }

    /// <summary>The per-entry label state (valid after <see cref="Process"/>, until the next call).</summary>
    public LineLabels Labels { get; }

    /// <summary>The stream's labels as a result (what an entry without metadata or stages gets).</summary>
    public LabelsResult BaseLabels => _results.ForStream(Labels.Stream);

    /// <summary>
    /// Runs the stages over one entry. Returns false when a stage drops it. On success <paramref name="outputLine"/>
    /// is the (possibly rewritten) line – valid until the next call – and <paramref name="labels"/> the entry's
    /// categorised labels. A rejected line allocates nothing.
    /// </summary>
    public bool Process(long timestampNs, ReadOnlySpan<byte> line, ReadOnlySpan<LabelPair> structuredMetadata,
        out ReadOnlySpan<byte> outputLine, out LabelsResult labels)
    {
        if (!Run(timestampNs, ref line, structuredMetadata))
        {
            outputLine = default;
            labels = null!;
            return false;
        }

        outputLine = line;
        labels = Labels.ToResult();
        return true;
    }

    /// <summary>
    /// Runs the stages, leaving the labels in <see cref="Labels"/> and the resulting line in <paramref name="line"/>,
    /// without building a result (for sample extraction).
    /// </summary>
    public bool Run(long timestampNs, ref ReadOnlySpan<byte> line, ReadOnlySpan<LabelPair> structuredMetadata)
    {
        var labels = Labels;
        labels.Reset();
        if (!structuredMetadata.IsEmpty)
        {
            labels.AddStructuredMetadata(structuredMetadata);
        }

        foreach (var stage in _stages)
        {
            if (!stage.Process(timestampNs, ref line, labels))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Turns AST stages into compiled stages.</summary>
internal static class StageCompiler
{
    public static PipelineStep Compile(StageExpr stage, List<LiteralRequirement>? requirements, ParserHints? hints) => stage switch
    {
        LineFilterExpr f => new LineFilterStep(LineFilterCompiler.Compile(f, requirements)),
        JsonParserExpr j => CompileJson(j, hints),
        LogfmtParserExpr l => CompileLogfmt(l, hints),
        RegexpParserExpr r => CompileRegexp(r),
        PatternParserExpr p => CompilePattern(p),
        UnpackParserExpr => new UnpackParserStep(),
        LabelFilterExpr lf => new LabelFilterStep(LabelPredicate.Compile(lf.Filter, lf.ToString())),
        DropLabelsExpr d => new DropLabelsStep(Items(d.Labels)),
        KeepLabelsExpr k => new KeepLabelsStep(Items(k.Labels)),
        DecolorizeExpr => new DecolorizeStep(),
        LineFormatExpr lf => LineFormatStep.Create(lf),
        LabelFormatExpr lf => LabelFormatStep.Create(lf),
        _ => throw PipelineBuildError.Create(stage.ToString(), "unsupported stage"),
    };

    private static List<(string, LabelMatcher?)> Items(EquatableArray<NamedLabelMatcher> labels)
    {
        var items = new List<(string, LabelMatcher?)>(labels.Count);
        foreach (var l in labels)
        {
            items.Add((l.Matcher?.Name ?? l.Name, l.Matcher));
        }

        return items;
    }

    private static PipelineStep CompileJson(JsonParserExpr j, ParserHints? hints)
    {
        if (j.Extractions.IsEmpty)
        {
            return new JsonParserStep(hints);
        }

        var names = new string[j.Extractions.Count];
        var paths = new JsonPathSegment[names.Length][];
        for (var i = 0; i < names.Length; i++)
        {
            var e = j.Extractions[i];
            paths[i] = JsonPath.TryParse(e.Expression, out var error) ??
                throw PipelineBuildError.Create(j.ToString(), "cannot parse expression [" + e.Expression + "]: " + error);
            names[i] = ValidName(e.Name, j);
        }

        return new JsonExpressionParserStep(names, paths);
    }

    private static string ValidName(string name, StageExpr stage)
    {
        if (!IsValidLabelName(name))
        {
            throw PipelineBuildError.Create(stage.ToString(), "invalid extracted label name '" + name + "'");
        }

        return name;
    }

    internal static bool IsValidLabelName(string name)
    {
        if (name.Length == 0 || !(char.IsAsciiLetter(name[0]) || name[0] == '_'))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static PipelineStep CompileLogfmt(LogfmtParserExpr l, ParserHints? hints)
    {
        if (l.Extractions.IsEmpty)
        {
            return new LogfmtParserStep(l.Strict, l.KeepEmpty, hints);
        }

        var names = new string[l.Extractions.Count];
        var keys = new string[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            var e = l.Extractions[i];
            var key = e.Expression.Trim();
            if (key.Length == 0 || !IsLogfmtKey(key))
            {
                throw PipelineBuildError.Create(l.ToString(), "cannot parse expression [" + e.Expression + "]: syntax error: unexpected $end");
            }

            names[i] = ValidName(e.Name, l);
            keys[i] = key;
        }

        return new LogfmtExpressionParserStep(names, keys, l.Strict);
    }

    private static bool IsLogfmtKey(string key)
    {
        foreach (var c in key)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static PipelineStep CompileRegexp(RegexpParserExpr r)
    {
        var regex = Re2Regex.TryCompile(r.Regex, anchored: false, out var error) ??
            throw PipelineBuildError.Create(r.ToString(), error ?? "invalid regex");
        var names = GoRegex.NamedGroups(r.Regex);
        if (names.Count == 0)
        {
            throw PipelineBuildError.Create(r.ToString(), "at least one named capture must be supplied");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var groups = new List<(int, string)>();
        foreach (var name in names)
        {
            if (!IsValidLabelName(name))
            {
                throw PipelineBuildError.Create(r.ToString(), "invalid extracted label name '" + name + "'");
            }

            if (!seen.Add(name))
            {
                throw PipelineBuildError.Create(r.ToString(), "duplicate extracted label name '" + name + "'");
            }

            groups.Add((regex.GroupNumberFromName(name), LabelKeys.Sanitize(name)));
        }

        return new RegexpParserStep(regex, [.. groups]);
    }

    private static PipelineStep CompilePattern(PatternParserExpr p)
    {
        if (PatternSyntax.Validate(p.Pattern) is { } error)
        {
            throw PipelineBuildError.Create(p.ToString(), error);
        }

        var nodes = PatternSyntax.Parse(p.Pattern);
        byte[]? leading = null;
        var start = 0;
        if (nodes.Count > 0 && !nodes[0].IsCapture)
        {
            leading = Encoding.UTF8.GetBytes(nodes[0].Text);
            start = 1;
        }

        var captures = new List<(string?, byte[]?)>();
        for (var i = start; i < nodes.Count; i += 2)
        {
            var capture = nodes[i];
            var following = i + 1 < nodes.Count ? Encoding.UTF8.GetBytes(nodes[i + 1].Text) : null;
            captures.Add((capture.IsUnnamed ? null : capture.Name, following));
        }

        return new PatternParserStep(leading, [.. captures]);
    }
}

/// <summary>Compiles line filters into matchers, collecting the literals they require.</summary>
internal static class LineFilterCompiler
{
    public static LineMatcher Compile(LineFilterExpr stage, List<LiteralRequirement>? requirements)
    {
        var negative = stage.IsNegative;
        var operands = new List<LineMatcher>(stage.Args.Count);
        var literals = new List<byte[]>();
        var caseModes = 0;
        var requirementValid = !negative && requirements is not null;
        foreach (var arg in stage.Args)
        {
            var ignoreCase = false;
            var before = literals.Count;
            var matcher = CompileArg(stage, arg, literals, ref ignoreCase, ref requirementValid);
            if (literals.Count > before)
            {
                caseModes |= ignoreCase ? 2 : 1;
            }

            if (ReferenceEquals(matcher, LineMatcher.True) && !negative)
            {
                // Any operand that always matches makes the whole positive chain match.
                return LineMatcher.True;
            }

            operands.Add(matcher);
        }

        var combined = operands.Count == 1 ? operands[0] : new AnyMatcher([.. operands]);
        if (requirementValid && literals.Count > 0 && caseModes != 3)
        {
            requirements!.Add(new LiteralRequirement(literals, caseModes == 2));
        }

        if (stage.Op == LineFilterOp.Pattern && stage.Args.Count == 1 && requirements is not null && combined is PatternMatcher pattern)
        {
            // Every literal of a pattern must occur in a matching line.
            foreach (var literal in pattern.Literals)
            {
                requirements.Add(new LiteralRequirement([literal], IgnoreCase: false));
            }
        }

        return negative ? new NotMatcher(combined) : combined;
    }

    private static LineMatcher CompileArg(LineFilterExpr stage, LineFilterArg arg, List<byte[]> literals, ref bool ignoreCase,
        ref bool requirementValid)
    {
        if (arg.IsIp)
        {
            requirementValid = false;
            if (stage.Op is not (LineFilterOp.Contains or LineFilterOp.NotContains))
            {
                throw PipelineBuildError.Create(stage.ToString(), "ip: invalid operation");
            }

            var pattern = IpPattern.TryParse(arg.Value) ??
                throw PipelineBuildError.Create(stage.ToString(), "ip: invalid pattern: " + GoString.Quote(arg.Value));
            return new IpLineMatcher(pattern);
        }

        switch (stage.Op)
        {
            case LineFilterOp.Contains or LineFilterOp.NotContains:
                if (arg.Value.Length == 0)
                {
                    return LineMatcher.True;
                }

                var bytes = Encoding.UTF8.GetBytes(arg.Value);
                literals.Add(bytes);
                return new ContainsMatcher(bytes);

            case LineFilterOp.Regex or LineFilterOp.NotRegex:
                return CompileRegex(stage, arg.Value, literals, ref ignoreCase, ref requirementValid);

            default:
                requirementValid = false;
                return CompilePattern(stage, arg.Value);
        }
    }

    private static LineMatcher CompileRegex(LineFilterExpr stage, string pattern, List<byte[]> literals, ref bool ignoreCase,
        ref bool requirementValid)
    {
        // Validate first so a bad regex is reported even when it looks literal.
        var regex = Re2Regex.TryCompile(pattern, anchored: false, out var error) ??
            throw PipelineBuildError.Create(stage.ToString(), error ?? "invalid regex");
        var branches = RegexLiteralShape.TryAnalyse(pattern, out var ci, out var anyPlus);
        if (anyPlus)
        {
            requirementValid = false;
            return new NonEmptyMatcher();
        }

        if (branches is not null && !(ci && branches.Exists(static b => !Ascii.IsValid(b.Literal))))
        {
            var operands = new List<LineMatcher>(branches.Count);
            foreach (var branch in branches)
            {
                if (branch.Literal.Length == 0)
                {
                    requirementValid = false;
                    return LineMatcher.True;
                }

                var bytes = Encoding.UTF8.GetBytes(branch.Literal);
                literals.Add(bytes);
                operands.Add(ci ? new ContainsIgnoreCaseMatcher(bytes) : new ContainsMatcher(bytes));
            }

            ignoreCase = ci;
            var literalMatcher = operands.Count == 1 ? operands[0] : new AnyMatcher([.. operands]);

            // RE2 folds k and s to non-ASCII letters too: only ASCII lines can skip the regex then.
            return ci && branches.Exists(static b => b.Literal.AsSpan().IndexOfAny("kKsS") >= 0)
                ? new AsciiFastPathMatcher(literalMatcher, new RegexMatcher(regex))
                : literalMatcher;
        }

        requirementValid = false;
        return new RegexMatcher(regex);
    }

    private static LineMatcher CompilePattern(LineFilterExpr stage, string pattern)
    {
        var nodes = PatternSyntax.Parse(pattern);
        var parts = new byte[]?[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            if (node.IsCapture)
            {
                if (!node.IsUnnamed)
                {
                    throw PipelineBuildError.Create(stage.ToString(), "named captures are not allowed");
                }

                if (i > 0 && nodes[i - 1].IsCapture)
                {
                    throw PipelineBuildError.Create(stage.ToString(),
                        "found consecutive capture '<" + nodes[i - 1].Name + "><" + node.Name + ">': invalid expression");
                }

                parts[i] = null;
            }
            else
            {
                parts[i] = Encoding.UTF8.GetBytes(node.Text);
            }
        }

        return new PatternMatcher(parts);
    }
}
