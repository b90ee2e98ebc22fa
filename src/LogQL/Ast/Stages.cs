using System.Text;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>One stage of a log pipeline.</summary>
public abstract record StageExpr
{
    /// <summary>Appends the canonical form to <paramref name="sb"/>.</summary>
    public abstract void WriteTo(StringBuilder sb);

    /// <summary>Loki's canonical form of the stage.</summary>
    public sealed override string ToString()
    {
        var sb = new StringBuilder(32);
        WriteTo(sb);
        return sb.ToString();
    }
}

/// <summary>The operator of a line filter.</summary>
public enum LineFilterOp
{
    /// <summary><c>|=</c> contains.</summary>
    Contains,

    /// <summary><c>!=</c> does not contain.</summary>
    NotContains,

    /// <summary><c>|~</c> regex matches.</summary>
    Regex,

    /// <summary><c>!~</c> regex does not match.</summary>
    NotRegex,

    /// <summary><c>|&gt;</c> pattern matches.</summary>
    Pattern,

    /// <summary><c>!&gt;</c> pattern does not match.</summary>
    NotPattern,
}

/// <summary>One operand of a line filter: a literal/regex/pattern string, or an <c>ip("...")</c> filter.</summary>
public readonly record struct LineFilterArg(string Value, bool IsIp)
{
    /// <summary>Appends <c>"value"</c> or <c>ip("value")</c>.</summary>
    public void WriteTo(StringBuilder sb)
    {
        if (IsIp)
        {
            sb.Append("ip(");
            GoString.AppendQuoted(sb, Value);
            sb.Append(')');
        }
        else
        {
            GoString.AppendQuoted(sb, Value);
        }
    }
}

/// <summary>
/// A line filter such as <c>|= "error"</c> or <c>|~ "a" or "b"</c>. A positive filter with several
/// arguments matches when any argument matches; negative <c>or</c> chains are split into separate filters at
/// parse time, as Loki does.
/// </summary>
public sealed record LineFilterStage(LineFilterOp Op, EquatableArray<LineFilterArg> Args) : StageExpr
{
    /// <summary>The operator as written.</summary>
    public static string OperatorText(LineFilterOp op) => op switch
    {
        LineFilterOp.Contains => "|=",
        LineFilterOp.NotContains => "!=",
        LineFilterOp.Regex => "|~",
        LineFilterOp.NotRegex => "!~",
        LineFilterOp.Pattern => "|>",
        LineFilterOp.NotPattern => "!>",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>Whether the operator is a negation.</summary>
    public bool IsNegative => Op is LineFilterOp.NotContains or LineFilterOp.NotRegex or LineFilterOp.NotPattern;

    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append(OperatorText(Op)).Append(' ');
        for (var i = 0; i < Args.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(" or ");
            }

            Args[i].WriteTo(sb);
        }
    }
}

/// <summary>A <c>name="expression"</c> parameter of <c>json</c> or <c>logfmt</c>.</summary>
public readonly record struct LabelExtraction(string Name, string Expression)
{
    /// <summary>Appends <c>name="expression"</c>.</summary>
    public void WriteTo(StringBuilder sb)
    {
        sb.Append(Name).Append('=');
        GoString.AppendQuoted(sb, Expression);
    }

    /// <summary>Appends the list joined by commas.</summary>
    public static void WriteList(StringBuilder sb, EquatableArray<LabelExtraction> list)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            list[i].WriteTo(sb);
        }
    }
}

/// <summary><c>| json</c>, optionally with extraction parameters.</summary>
public sealed record JsonParserStage(EquatableArray<LabelExtraction> Extractions) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| json");
        if (!Extractions.IsEmpty)
        {
            sb.Append(' ');
            LabelExtraction.WriteList(sb, Extractions);
        }
    }
}

/// <summary><c>| logfmt</c> with its flags and optional extraction parameters.</summary>
public sealed record LogfmtParserStage(bool Strict, bool KeepEmpty, EquatableArray<LabelExtraction> Extractions) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| logfmt");
        if (Strict)
        {
            sb.Append(" --strict");
        }

        if (KeepEmpty)
        {
            sb.Append(" --keep-empty");
        }

        if (!Extractions.IsEmpty)
        {
            sb.Append(' ');
            LabelExtraction.WriteList(sb, Extractions);
        }
    }
}

/// <summary><c>| regexp "re"</c>: named groups become labels.</summary>
public sealed record RegexpParserStage(string Regex) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| regexp ");
        GoString.AppendQuoted(sb, Regex);
    }
}

/// <summary><c>| pattern "&lt;a&gt; &lt;_&gt;"</c>: named captures become labels.</summary>
public sealed record PatternParserStage(string Pattern) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| pattern ");
        GoString.AppendQuoted(sb, Pattern);
    }
}

/// <summary><c>| unpack</c>.</summary>
public sealed record UnpackParserStage : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb) => sb.Append("| unpack");
}

/// <summary><c>| line_format "template"</c>.</summary>
public sealed record LineFormatStage(string Template) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| line_format ");
        GoString.AppendQuoted(sb, Template);
    }
}

/// <summary>One <c>label_format</c> item: <c>dst=src</c> (rename) or <c>dst="template"</c>.</summary>
public readonly record struct LabelFormatItem(string Name, string Value, bool IsRename);

/// <summary><c>| label_format a=b,c="{{.x}}"</c>.</summary>
public sealed record LabelFormatStage(EquatableArray<LabelFormatItem> Items) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| label_format ");
        for (var i = 0; i < Items.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            var item = Items[i];
            sb.Append(item.Name).Append('=');
            if (item.IsRename)
            {
                sb.Append(item.Value);
            }
            else
            {
                GoString.AppendQuoted(sb, item.Value);
            }
        }
    }
}

/// <summary><c>| decolorize</c>.</summary>
public sealed record DecolorizeStage : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb) => sb.Append("| decolorize");
}

/// <summary>An item of <c>drop</c>/<c>keep</c>: a bare label name, or a matcher on the label's value.</summary>
public readonly record struct NamedLabelMatcher(string Name, LabelMatcher? Matcher)
{
    /// <summary>Appends the name or the matcher.</summary>
    public void WriteTo(StringBuilder sb) => sb.Append(Matcher is null ? Name : Matcher.ToString());

    /// <summary>Appends the list joined by commas.</summary>
    public static void WriteList(StringBuilder sb, EquatableArray<NamedLabelMatcher> list)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            list[i].WriteTo(sb);
        }
    }
}

/// <summary><c>| drop a, b="x"</c>.</summary>
public sealed record DropLabelsStage(EquatableArray<NamedLabelMatcher> Labels) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| drop ");
        NamedLabelMatcher.WriteList(sb, Labels);
    }
}

/// <summary><c>| keep a, b="x"</c>.</summary>
public sealed record KeepLabelsStage(EquatableArray<NamedLabelMatcher> Labels) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| keep ");
        NamedLabelMatcher.WriteList(sb, Labels);
    }
}

/// <summary><c>| &lt;label filter&gt;</c>.</summary>
public sealed record LabelFilterStage(LabelFilter Filter) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| ");
        Filter.WriteTo(sb);
    }
}
