namespace LokiSharp.LogQL.Syntax;

/// <summary>
/// The tokens of LogQL. The declaration order is Loki's yacc token order, which decides the order of the
/// alternatives in "expecting A or B" error messages.
/// </summary>
public enum TokenKind
{
    /// <summary>End of input (<c>$end</c>).</summary>
    End,

    /// <summary>A lexical error; carries the scanner's message.</summary>
    Error,

    /// <summary>A byte size such as <c>250kB</c>.</summary>
    Bytes,

    /// <summary>A name; also any stray character no rule accepts.</summary>
    Identifier,

    /// <summary>A quoted string, already unquoted.</summary>
    String,

    /// <summary>A number literal as written.</summary>
    Number,

    /// <summary><c>--strict</c> or <c>--keep-empty</c>.</summary>
    FunctionFlag,

    /// <summary>A duration such as <c>5m</c> or <c>-1h</c>.</summary>
    Duration,

    /// <summary>A range such as <c>[5m]</c>.</summary>
    Range,

    /// <summary><c>=</c></summary>
    Eq,

    /// <summary><c>=~</c></summary>
    Re,

    /// <summary><c>!~</c></summary>
    Nre,

    /// <summary><c>!&gt;</c></summary>
    Npa,

    /// <summary><c>{</c></summary>
    OpenBrace,

    /// <summary><c>}</c></summary>
    CloseBrace,

    /// <summary><c>[</c> (only seen when no range follows).</summary>
    OpenBracket,

    /// <summary><c>]</c></summary>
    CloseBracket,

    /// <summary><c>,</c></summary>
    Comma,

    /// <summary><c>.</c></summary>
    Dot,

    /// <summary><c>|~</c></summary>
    PipeMatch,

    /// <summary><c>|=</c></summary>
    PipeExact,

    /// <summary><c>|&gt;</c></summary>
    PipePattern,

    /// <summary><c>(</c></summary>
    OpenParenthesis,

    /// <summary><c>)</c></summary>
    CloseParenthesis,

    /// <summary><c>by</c></summary>
    By,

    /// <summary><c>without</c></summary>
    Without,

    /// <summary>
    /// A range function (<c>count_over_time</c>, <c>rate</c>, ...); <see cref="Token.Value"/> holds its
    /// <see cref="Ast.RangeOp"/>. Loki's yacc has a token per function, each declared where this one is or later,
    /// but they never show in an "expecting" list (yacc prints one only for four alternatives or fewer, and a range
    /// function is only ever one of many ways to start an expression), so one kind serves them all and
    /// <see cref="Token.Name"/> prints each function's own token name.
    /// </summary>
    RangeFunction,

    /// <summary>
    /// A vector aggregation operator (<c>sum</c>, <c>topk</c>, ...); <see cref="Token.Value"/> holds its
    /// <see cref="Ast.VectorOp"/>. As with <see cref="RangeFunction"/>, one kind stands for Loki's token per operator.
    /// </summary>
    VectorFunction,

    /// <summary><c>bool</c></summary>
    Bool,

    /// <summary><c>json</c></summary>
    Json,

    /// <summary><c>regexp</c></summary>
    Regexp,

    /// <summary><c>logfmt</c></summary>
    Logfmt,

    /// <summary><c>|</c></summary>
    Pipe,

    /// <summary><c>line_format</c></summary>
    LineFormat,

    /// <summary><c>label_format</c></summary>
    LabelFormat,

    /// <summary><c>unwrap</c></summary>
    Unwrap,

    /// <summary><c>bytes</c> conversion of unwrap.</summary>
    BytesConv,

    /// <summary><c>duration</c> conversion of unwrap.</summary>
    DurationConv,

    /// <summary><c>duration_seconds</c> conversion of unwrap.</summary>
    DurationSecondsConv,

    /// <summary><c>vector</c></summary>
    Vector,

    /// <summary><c>label_replace</c></summary>
    LabelReplace,

    /// <summary><c>unpack</c></summary>
    Unpack,

    /// <summary><c>offset</c></summary>
    Offset,

    /// <summary><c>pattern</c></summary>
    Pattern,

    /// <summary><c>ip</c></summary>
    Ip,

    /// <summary><c>on</c></summary>
    On,

    /// <summary><c>ignoring</c></summary>
    Ignoring,

    /// <summary><c>group_left</c></summary>
    GroupLeft,

    /// <summary><c>group_right</c></summary>
    GroupRight,

    /// <summary><c>decolorize</c></summary>
    Decolorize,

    /// <summary><c>drop</c></summary>
    Drop,

    /// <summary><c>keep</c></summary>
    Keep,

    /// <summary><c>or</c></summary>
    Or,

    /// <summary><c>and</c></summary>
    And,

    /// <summary><c>unless</c></summary>
    Unless,

    /// <summary><c>==</c></summary>
    CmpEq,

    /// <summary><c>!=</c></summary>
    Neq,

    /// <summary><c>&lt;</c></summary>
    Lt,

    /// <summary><c>&lt;=</c></summary>
    Lte,

    /// <summary><c>&gt;</c></summary>
    Gt,

    /// <summary><c>&gt;=</c></summary>
    Gte,

    /// <summary><c>+</c></summary>
    Add,

    /// <summary><c>-</c></summary>
    Sub,

    /// <summary><c>*</c></summary>
    Mul,

    /// <summary><c>/</c></summary>
    Div,

    /// <summary><c>%</c></summary>
    Mod,

    /// <summary><c>^</c></summary>
    Pow,
}

/// <summary>How Loki's parser names tokens in syntax errors.</summary>
public static class TokenNames
{
    private static readonly string[] Names = BuildNames();

    /// <summary>The name yacc prints for <paramref name="kind"/>.</summary>
    public static string Of(TokenKind kind) => Names[(int)kind];

    private static string[] BuildNames()
    {
        var names = new string[(int)TokenKind.Pow + 1];
        foreach (var kind in Enum.GetValues<TokenKind>())
        {
            names[(int)kind] = kind switch
            {
                TokenKind.End => "$end",
                TokenKind.Error => "$unk",
                TokenKind.Bytes => "BYTES",
                TokenKind.Identifier => "IDENTIFIER",
                TokenKind.String => "STRING",
                TokenKind.Number => "NUMBER",
                TokenKind.FunctionFlag => "FUNCTION_FLAG",
                TokenKind.Duration => "DURATION",
                TokenKind.Range => "RANGE",
                TokenKind.Eq => "=",
                TokenKind.Re => "=~",
                TokenKind.Nre => "!~",
                TokenKind.Npa => "!>",
                TokenKind.OpenBrace => "{",
                TokenKind.CloseBrace => "}",
                TokenKind.OpenBracket => "[",
                TokenKind.CloseBracket => "]",
                TokenKind.Comma => ",",
                TokenKind.Dot => ".",
                TokenKind.PipeMatch => "|~",
                TokenKind.PipeExact => "|=",
                TokenKind.PipePattern => "|>",
                TokenKind.OpenParenthesis => "(",
                TokenKind.CloseParenthesis => ")",
                TokenKind.By => "by",
                TokenKind.Without => "without",
                TokenKind.Bool => "bool",
                TokenKind.Json => "json",
                TokenKind.Regexp => "regexp",
                TokenKind.Logfmt => "logfmt",
                TokenKind.Pipe => "|",
                TokenKind.LineFormat => "line_format",
                TokenKind.LabelFormat => "label_format",
                TokenKind.Unwrap => "unwrap",
                TokenKind.LabelReplace => "label_replace",
                TokenKind.Unpack => "unpack",
                TokenKind.Offset => "offset",
                TokenKind.Pattern => "pattern",
                TokenKind.Ip => "ip",
                TokenKind.On => "on",
                TokenKind.Ignoring => "ignoring",
                TokenKind.GroupLeft => "group_left",
                TokenKind.GroupRight => "group_right",
                TokenKind.Decolorize => "decolorize",
                TokenKind.Drop => "drop",
                TokenKind.Keep => "keep",
                TokenKind.Or => "or",
                TokenKind.And => "and",
                TokenKind.Unless => "unless",
                TokenKind.CmpEq => "==",
                TokenKind.Neq => "!=",
                TokenKind.Lt => "<",
                TokenKind.Lte => "<=",
                TokenKind.Gt => ">",
                TokenKind.Gte => ">=",
                TokenKind.Add => "+",
                TokenKind.Sub => "-",
                TokenKind.Mul => "*",
                TokenKind.Div => "/",
                TokenKind.Mod => "%",
                TokenKind.Pow => "^",
                _ => ScreamingSnake(kind.ToString()),
            };
        }

        return names;
    }

    private static string ScreamingSnake(string pascal)
    {
        var sb = new System.Text.StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i]))
            {
                sb.Append('_');
            }

            sb.Append(char.ToUpperInvariant(pascal[i]));
        }

        return sb.ToString();
    }
}
