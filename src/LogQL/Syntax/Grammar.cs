using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Text;
using Pidgin;
using static Pidgin.Parser;
using MatchType = LokiSharp.LogQL.Labels.MatchType;

namespace LokiSharp.LogQL.Syntax;

/// <summary>
/// The LogQL grammar as Pidgin parsers over <see cref="Token"/>s, built once. It mirrors Loki's yacc grammar;
/// where yacc's shift preferences decide the shape of the tree (label filter juxtaposition and commas, operator
/// precedence) the folding is done explicitly after parsing a flat sequence.
/// </summary>
internal static class Grammar
{
    /// <summary>A whole query followed by end of input.</summary>
    public static readonly Parser<Token, Expr> Query;

    private static readonly Parser<Token, Token>[] Tokens = BuildTokenParsers();

    static Grammar()
    {
        var identifier = Tok(TokenKind.Identifier).Select(static t => t.Text!);
        var str = Tok(TokenKind.String).Select(static t => t.Text!);
        var number = Tok(TokenKind.Number).Select(static t => t.Text!);
        var comma = Tok(TokenKind.Comma);
        var open = Tok(TokenKind.OpenParenthesis);
        var close = Tok(TokenKind.CloseParenthesis);
        var offsetHere = Parser<Token>.CurrentOffset;

        // Each recursion below is entered after a "(" (so NestingDepth.CheckBrackets bounds it) and first checks
        // that the thread has stack left, so a thread with an unusually small stack gets a parse error, not a crash.
        var stackGuard = offsetHere.Select(static offset =>
        {
            NestingDepth.EnsureStack();
            return offset;
        });

        // Matchers and selectors.
        var matchOp = OneOf(
            Tok(TokenKind.Eq).ThenReturn(MatchType.Equal),
            Tok(TokenKind.Neq).ThenReturn(MatchType.NotEqual),
            Tok(TokenKind.Re).ThenReturn(MatchType.Regex),
            Tok(TokenKind.Nre).ThenReturn(MatchType.NotRegex));
        var matcher = Map(Factory.Matcher, identifier, matchOp, str);
        var selector = matcher.Separated(comma)
            .Between(Tok(TokenKind.OpenBrace), Tok(TokenKind.CloseBrace))
            .Select(static ms => new MatchersExpr(new EquatableArray<LabelMatcher>([.. ms])));

        var labelList = identifier.Separated(comma).Between(open, close)
            .Select(static ls => new EquatableArray<string>([.. ls]));

        // Line filters.
        var lineFilterOp = OneOf(
            Tok(TokenKind.PipeExact).ThenReturn(LineFilterOp.Contains),
            Tok(TokenKind.Neq).ThenReturn(LineFilterOp.NotContains),
            Tok(TokenKind.PipeMatch).ThenReturn(LineFilterOp.Regex),
            Tok(TokenKind.Nre).ThenReturn(LineFilterOp.NotRegex),
            Tok(TokenKind.PipePattern).ThenReturn(LineFilterOp.Pattern),
            Tok(TokenKind.Npa).ThenReturn(LineFilterOp.NotPattern));
        var ipCall = Tok(TokenKind.Ip).Then(str.Between(open, close));
        var lineFilterArg = OneOf(
            str.Select(static s => new LineFilterArg(s, false)),
            ipCall.Select(static s => new LineFilterArg(s, true)));
        var lineFilter = Map(
            Factory.LineFilter,
            lineFilterOp,
            lineFilterArg,
            Tok(TokenKind.Or).Then(lineFilterArg).Many());

        // Label filters.
        var signedNumber = OneOf(
            number.Select(static n => (Text: n, Negative: false)),
            Tok(TokenKind.Add).Then(number).Select(static n => (Text: n, Negative: false)),
            Tok(TokenKind.Sub).Then(number).Select(static n => (Text: n, Negative: true)));
        var unitValue = OneOf(
            Tok(TokenKind.Duration).Select(static t => FilterValue.Duration(t.Value)),
            Tok(TokenKind.Bytes).Select(static t => FilterValue.Bytes(t.Value)),
            signedNumber.Select(static n => FilterValue.Number(n.Text, n.Negative)));
        var eqValue = OneOf(
            str.Select(FilterValue.String),
            ipCall.Select(FilterValue.Ip),
            unitValue);
        var comparison = OneOf(
            Tok(TokenKind.CmpEq).ThenReturn(ComparisonOp.Equal),
            Tok(TokenKind.Gt).ThenReturn(ComparisonOp.GreaterThan),
            Tok(TokenKind.Gte).ThenReturn(ComparisonOp.GreaterThanOrEqual),
            Tok(TokenKind.Lt).ThenReturn(ComparisonOp.LessThan),
            Tok(TokenKind.Lte).ThenReturn(ComparisonOp.LessThanOrEqual));
        var filterTail = OneOf(
            Tok(TokenKind.Eq).Then(eqValue).Select(static v => (Op: FilterOp.Eq, Value: v)),
            Tok(TokenKind.Neq).Then(eqValue).Select(static v => (Op: FilterOp.Neq, Value: v)),
            Tok(TokenKind.Re).Then(str).Select(static s => (Op: FilterOp.Re, Value: FilterValue.String(s))),
            Tok(TokenKind.Nre).Then(str).Select(static s => (Op: FilterOp.Nre, Value: FilterValue.String(s))),
            Map(static (op, v) => (Op: (FilterOp)((int)FilterOp.Cmp + (int)op), Value: v), comparison, unitValue));
        var identFilter = Map(static (name, tail) => Factory.LabelFilterTerm(name, tail.Op, tail.Value), identifier, filterTail);

        Parser<Token, LabelFilter>? labelFilterRef = null;
        var labelFilterRec = Rec(() => stackGuard.Then(labelFilterRef!));
        var filterTerm = OneOf(labelFilterRec.Between(open, close), identFilter);
        var connected = OneOf(
            Tok(TokenKind.And).Then(filterTerm).Select(static t => (Connector.And, t)),
            Tok(TokenKind.Or).Then(filterTerm).Select(static t => (Connector.Or, t)),
            comma.Then(filterTerm).Select(static t => (Connector.Comma, t)),
            filterTerm.Select(static t => (Connector.Juxtaposition, t)));
        labelFilterRef = Map(Factory.FoldLabelFilters, filterTerm, connected.Many());
        var labelFilter = labelFilterRef;

        // Parser and formatting stages.
        var extraction = Map(
            static (name, expr) => new LabelExtraction(name, expr.HasValue ? expr.Value : name),
            identifier,
            Tok(TokenKind.Eq).Then(str).Optional());
        var extractions = extraction.SeparatedAtLeastOnce(comma)
            .Select(static es => new EquatableArray<LabelExtraction>([.. es]))
            .Optional()
            .Select(static es => es.HasValue ? es.Value : EquatableArray<LabelExtraction>.Empty);
        var json = Tok(TokenKind.Json).Then(extractions).Select(static es => (StageExpr)new JsonParserExpr(es));
        var logfmt = Map(
            Factory.Logfmt,
            Tok(TokenKind.Logfmt),
            Tok(TokenKind.FunctionFlag).Select(static t => t.Text!).Many(),
            extractions);
        var regexp = Tok(TokenKind.Regexp).Then(str).Select(Factory.RegexpStage);
        var pattern = Tok(TokenKind.Pattern).Then(str).Select(Factory.PatternStage);
        var unpack = Tok(TokenKind.Unpack).ThenReturn((StageExpr)new UnpackParserExpr());
        var decolorize = Tok(TokenKind.Decolorize).ThenReturn((StageExpr)new DecolorizeExpr());
        var lineFormat = Tok(TokenKind.LineFormat).Then(str).Select(static s => (StageExpr)new LineFormatExpr(s));
        var labelFormat = Tok(TokenKind.LabelFormat).Then(
            Map(
                static (name, value) => new LabelFormatItem(name, value.Value, value.Rename),
                identifier.Before(Tok(TokenKind.Eq)),
                OneOf(
                    identifier.Select(static v => (Value: v, Rename: true)),
                    str.Select(static v => (Value: v, Rename: false))))
            .SeparatedAtLeastOnce(comma))
            .Select(static items => (StageExpr)new LabelFormatExpr(new EquatableArray<LabelFormatItem>([.. items])));
        var namedMatcher = Map(
            Factory.NamedMatcher,
            identifier,
            Map(static (op, value) => (op, value), matchOp, str).Optional());
        var namedMatchers = namedMatcher.SeparatedAtLeastOnce(comma)
            .Select(static ms => new EquatableArray<NamedLabelMatcher>([.. ms]));
        var drop = Tok(TokenKind.Drop).Then(namedMatchers).Select(static ms => (StageExpr)new DropLabelsExpr(ms));
        var keep = Tok(TokenKind.Keep).Then(namedMatchers).Select(static ms => (StageExpr)new KeepLabelsExpr(ms));
        var stageBody = OneOf(
            json,
            logfmt,
            regexp,
            pattern,
            unpack,
            lineFormat,
            decolorize,
            labelFormat,
            drop,
            keep,
            labelFilter.Select(static f => (StageExpr)new LabelFilterExpr(f)));

        var pipe = Tok(TokenKind.Pipe);
        var stage = OneOf(lineFilter, pipe.Then(stageBody));
        var logPipeline = stage.Many();

        // Unwrap and log ranges.
        var conversion = OneOf(
            Tok(TokenKind.BytesConv).ThenReturn(UnwrapConversion.Bytes),
            Tok(TokenKind.DurationConv).ThenReturn(UnwrapConversion.Duration),
            Tok(TokenKind.DurationSecondsConv).ThenReturn(UnwrapConversion.DurationSeconds));
        var unwrapTarget = OneOf(
            identifier.Select(static id => (Conversion: UnwrapConversion.None, Id: id)),
            Map(static (c, id) => (Conversion: c, Id: id), conversion, identifier.Between(open, close)));
        var unwrapBody = Map(
            static (target, filters) => new UnwrapExpr(target.Id, target.Conversion, new EquatableArray<LabelFilter>([.. filters])),
            Tok(TokenKind.Unwrap).Then(unwrapTarget),
            pipe.Then(labelFilter).Many());
        var rangeItem = Map(
            static (offset, item) => item with { Offset = offset },
            offsetHere,
            OneOf(
                lineFilter.Select(static s => new PipelineItem(s, null, 0)),
                pipe.Then(OneOf(
                    stageBody.Select(static s => new PipelineItem(s, null, 0)),
                    unwrapBody.Select(static u => new PipelineItem(null, u, 0))))));
        var rangeItems = rangeItem.Many().Select(static items => items.ToList());
        var rangeToken = Tok(TokenKind.Range).Select(static t => new GoDuration(t.Value));
        var offsetClause = Tok(TokenKind.Offset).Then(Tok(TokenKind.Duration)).Select(static t => new GoDuration(t.Value)).Optional()
            .Select(static o => o.HasValue ? o.Value : GoDuration.Zero);
        var trailingUnwrap = Map(static (offset, u) => (Offset: offset, Unwrap: u), offsetHere, pipe.Then(unwrapBody)).Optional();

        var bareRange = Map(
            static (sel, tail) => tail(sel),
            selector,
            OneOf(
                Map(
                    static (range, offset, items) => new Func<MatchersExpr, LogRangeExpr>(sel => Factory.LogRange(sel, items, range, offset, null)),
                    rangeToken,
                    offsetClause,
                    rangeItems),
                Map(
                    static (items, range, offset) => new Func<MatchersExpr, LogRangeExpr>(sel => Factory.LogRange(sel, items, range, offset, null)),
                    rangeItem.AtLeastOnce().Select(static items => items.ToList()),
                    rangeToken,
                    offsetClause)));

        Parser<Token, LogRangeExpr>? logRangeRef = null;
        var logRangeRec = Rec(() => stackGuard.Then(logRangeRef!));
        var parenRange = open.Then(OneOf(
            Lookahead(open).Then(logRangeRec).Before(close),
            Map(
                static (sel, items, tail) => tail(sel, items),
                selector,
                rangeItems,
                OneOf(
                    Map(
                        static (range, offset, unwrap) => new Func<MatchersExpr, List<PipelineItem>, LogRangeExpr>(
                            (sel, items) => Factory.ParenthesisedLogRange(sel, items, range, offset, unwrap)),
                        close.Then(rangeToken),
                        offsetClause,
                        trailingUnwrap),
                    Map(
                        static (range, offset, items2) => new Func<MatchersExpr, List<PipelineItem>, LogRangeExpr>(
                            (sel, items) => Factory.LogRangeInParentheses(sel, items, range, offset, items2)),
                        rangeToken,
                        offsetClause,
                        rangeItems.Before(close))))));
        logRangeRef = OneOf(bareRange, parenRange);
        var logRange = logRangeRef;

        // Metric expressions.
        var grouping = Map(
            static (without, labels) => new Grouping(without, labels),
            OneOf(Tok(TokenKind.By).ThenReturn(false), Tok(TokenKind.Without).ThenReturn(true)),
            labelList);
        var parameter = Try(number.Before(comma)).Optional();
        var rangeAggregation = Map(
            Factory.RangeAggregation,
            Tok(TokenKind.RangeFunction),
            open.Then(parameter),
            logRange.Before(close),
            grouping.Optional());

        Parser<Token, Expr>? exprRef = null;
        var exprRec = Rec(() => stackGuard.Then(exprRef!));
        var metricArgument = Map(static (e, offset) => Factory.RequireMetric(e, offset), exprRec, offsetHere);

        var aggregationBody = Map(
            static (param, inner) => (Param: param.HasValue ? param.Value : null, Inner: inner),
            open.Then(parameter),
            metricArgument.Before(close));
        var vectorAggregation = Map(
            static (op, tail) => Factory.VectorAggregation(op, tail.Grouping, tail.Body.Param, tail.Body.Inner),
            Tok(TokenKind.VectorFunction),
            OneOf(
                Map(static (g, body) => (Grouping: (Grouping?)g, Body: body), grouping, aggregationBody),
                Map(static (body, g) => (Grouping: g.HasValue ? g.Value : null, Body: body), aggregationBody, grouping.Optional())));

        var literal = signedNumber.Select(static n => Factory.Literal(n.Text, n.Negative));
        var vector = Tok(TokenKind.Vector).Then(number.Between(open, close)).Select(Factory.Vector);
        var labelReplaceStrings = Map(
            static (dst, repl, src, re) => (dst, repl, src, re),
            comma.Then(str),
            comma.Then(str),
            comma.Then(str),
            comma.Then(str));
        var labelReplace = Map(
            static (inner, s) => Factory.LabelReplace(inner, s.dst, s.repl, s.src, s.re),
            Tok(TokenKind.LabelReplace).Then(open).Then(metricArgument),
            labelReplaceStrings.Before(close));
        var logExpr = Map(Factory.LogExpr, selector, logPipeline);
        var operand = OneOf(
            literal.Cast<Expr>(),
            vector.Cast<Expr>(),
            labelReplace.Cast<Expr>(),
            rangeAggregation.Cast<Expr>(),
            vectorAggregation.Cast<Expr>(),
            logExpr,
            exprRec.Between(open, close));

        var binaryOp = OneOf(
            Tok(TokenKind.Or).ThenReturn(BinaryOp.Or),
            Tok(TokenKind.And).ThenReturn(BinaryOp.And),
            Tok(TokenKind.Unless).ThenReturn(BinaryOp.Unless),
            Tok(TokenKind.Add).ThenReturn(BinaryOp.Add),
            Tok(TokenKind.Sub).ThenReturn(BinaryOp.Sub),
            Tok(TokenKind.Mul).ThenReturn(BinaryOp.Mul),
            Tok(TokenKind.Div).ThenReturn(BinaryOp.Div),
            Tok(TokenKind.Mod).ThenReturn(BinaryOp.Mod),
            Tok(TokenKind.Pow).ThenReturn(BinaryOp.Pow),
            Tok(TokenKind.CmpEq).ThenReturn(BinaryOp.Equal),
            Tok(TokenKind.Neq).ThenReturn(BinaryOp.NotEqual),
            Tok(TokenKind.Gt).ThenReturn(BinaryOp.GreaterThan),
            Tok(TokenKind.Gte).ThenReturn(BinaryOp.GreaterThanOrEqual),
            Tok(TokenKind.Lt).ThenReturn(BinaryOp.LessThan),
            Tok(TokenKind.Lte).ThenReturn(BinaryOp.LessThanOrEqual));
        var groupSide = Map(
            static (card, include) => (Card: card, Include: include.HasValue ? include.Value : EquatableArray<string>.Empty),
            OneOf(
                Tok(TokenKind.GroupLeft).ThenReturn(VectorMatchCardinality.ManyToOne),
                Tok(TokenKind.GroupRight).ThenReturn(VectorMatchCardinality.OneToMany)),
            labelList.Optional());
        var matching = Map(
            static (on, labels, group) => (On: on, Labels: labels, Group: group),
            OneOf(Tok(TokenKind.On).ThenReturn(true), Tok(TokenKind.Ignoring).ThenReturn(false)),
            labelList,
            groupSide.Optional());
        var modifier = Map(Factory.Modifier, Tok(TokenKind.Bool).Optional(), matching.Optional());
        var binaryTail = Map(static (op, mod, rhs) => new BinaryTail(op, mod, rhs), binaryOp, modifier, operand);
        exprRef = Map(Factory.FoldBinary, operand, binaryTail.Many());

        Query = exprRef.Before(Tok(TokenKind.End));
    }

    private static Parser<Token, Token> Tok(TokenKind kind) => Tokens[(int)kind];

    private static Parser<Token, Token>[] BuildTokenParsers()
    {
        var parsers = new Parser<Token, Token>[(int)TokenKind.Pow + 1];
        foreach (var kind in System.Enum.GetValues<TokenKind>())
        {
            parsers[(int)kind] = Parser<Token>.Token(t => ExpectedTokens.Check(t, kind)).Labelled(TokenNames.Of(kind));
        }

        return parsers;
    }
}

/// <summary>How a label filter term is joined to the previous one.</summary>
internal enum Connector
{
    And,
    Or,
    Comma,
    Juxtaposition,
}

/// <summary>The operator of a label filter term; comparisons follow <see cref="Cmp"/> in <see cref="ComparisonOp"/> order.</summary>
internal enum FilterOp
{
    Eq,
    Neq,
    Re,
    Nre,
    Cmp,
}

/// <summary>The value side of a label filter term.</summary>
internal readonly record struct FilterValue(FilterValueKind Kind, string? Text, long Raw, bool Negative)
{
    public static FilterValue String(string s) => new(FilterValueKind.String, s, 0, false);

    public static FilterValue Ip(string s) => new(FilterValueKind.Ip, s, 0, false);

    public static FilterValue Duration(long ns) => new(FilterValueKind.Duration, null, ns, false);

    public static FilterValue Bytes(long raw) => new(FilterValueKind.Bytes, null, raw, false);

    public static FilterValue Number(string text, bool negative) => new(FilterValueKind.Number, text, 0, negative);
}

/// <summary>Kinds of <see cref="FilterValue"/>.</summary>
internal enum FilterValueKind
{
    String,
    Ip,
    Duration,
    Bytes,
    Number,
}

/// <summary>A stage or an unwrap clause met in a range's pipeline, with the token index where it starts.</summary>
internal readonly record struct PipelineItem(StageExpr? Stage, UnwrapExpr? Unwrap, int Offset);

/// <summary><c>op [modifier] operand</c> following the first operand of a binary expression.</summary>
internal readonly record struct BinaryTail(BinaryOp Op, BinaryOpModifier Modifier, Expr Right);

/// <summary>
/// Records, per parse and thread, the furthest token index at which a token parser failed and which token kinds
/// were tried there. Pidgin drops the expectations of optional parts that did not match; yacc lists every token
/// its state could shift, so the furthest-failure set is the closer approximation.
/// </summary>
internal static class ExpectedTokens
{
    [ThreadStatic]
    private static int _furthest;

    [ThreadStatic]
    private static UInt128 _kinds;

    public static int Furthest => _furthest;

    public static void Reset()
    {
        _furthest = -1;
        _kinds = UInt128.Zero;
    }

    public static bool Check(Token token, TokenKind kind)
    {
        if (token.Kind == kind)
        {
            return true;
        }

        if (token.Index > _furthest)
        {
            _furthest = token.Index;
            _kinds = UInt128.Zero;
        }

        if (token.Index == _furthest)
        {
            _kinds |= UInt128.One << (int)kind;
        }

        return false;
    }

    public static List<TokenKind> Kinds()
    {
        var list = new List<TokenKind>();
        for (var i = 0; i < 128; i++)
        {
            if ((_kinds & (UInt128.One << i)) != UInt128.Zero)
            {
                list.Add((TokenKind)i);
            }
        }

        return list;
    }
}
