namespace LokiSharp.LogQL.Syntax;

/// <summary>
/// A LogQL parse or validation error. <see cref="Exception.Message"/> is Loki's exact text
/// (<c>parse error at line 1, col 11: syntax error: ...</c> or <c>parse error : ...</c>), suitable for a 400 body.
/// </summary>
public sealed class LogQLParseException : Exception
{
    /// <summary>Creates an error; line and column 0 mean "no position", as in Loki.</summary>
    public LogQLParseException(string detail, int line, int column)
        : base(Format(detail, line, column))
    {
        Detail = detail;
        Line = line;
        Column = column;
    }

    /// <summary>Creates an error without position.</summary>
    public LogQLParseException()
        : this("failed to parse the log query", 0, 0)
    {
    }

    /// <summary>Creates an error without position.</summary>
    public LogQLParseException(string detail)
        : this(detail, 0, 0)
    {
    }

    /// <summary>Creates an error without position, wrapping a cause.</summary>
    public LogQLParseException(string detail, Exception innerException)
        : base(Format(detail, 0, 0), innerException)
    {
        Detail = detail;
    }

    /// <summary>The message without the <c>parse error ...:</c> prefix.</summary>
    public string Detail { get; } = string.Empty;

    /// <summary>1-based line of the offending token; 0 when unknown (or for Loki's look-ahead tokens).</summary>
    public int Line { get; }

    /// <summary>1-based column (in runes) of the offending token; 0 when unknown.</summary>
    public int Column { get; }

    private static string Format(string detail, int line, int column) =>
        line == 0 && column == 0
            ? "parse error : " + detail
            : "parse error at line " + line.ToString(System.Globalization.CultureInfo.InvariantCulture) + ", col " +
              column.ToString(System.Globalization.CultureInfo.InvariantCulture) + ": " + detail;
}
