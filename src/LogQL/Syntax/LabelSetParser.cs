using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Syntax;

/// <summary>
/// Parses the label-set strings of push requests (<c>{a="b", c="d"}</c>), as Loki's <c>syntax.ParseLabels</c>
/// does: Prometheus metric syntax, labels sorted, empty values dropped.
/// </summary>
public static class LabelSetParser
{
    private const int MaxStreamLabelsSize = (1 << 24) - 1;

    /// <summary>Parses <paramref name="text"/> into a label set.</summary>
    /// <exception cref="LogQLParseException">The text is not a valid label set.</exception>
    public static LabelSet Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxStreamLabelsSize)
        {
            throw new LogQLParseException("labels size " + (text.Length >> 20) + " MiB exceeds limit of " + (MaxStreamLabelsSize >> 20));
        }

        var tokens = Lexer.Tokenize(text);
        var i = 0;
        Expect(tokens, ref i, TokenKind.OpenBrace, "unexpected {0}, expected \"{{\"");
        var pairs = new List<LabelPair>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (tokens[i].Kind != TokenKind.CloseBrace)
        {
            var name = LabelName(tokens[i]) ??
                throw Error(tokens[i], "unexpected " + Describe(tokens[i]) + " in label set, expected identifier or \"}\"");
            i++;
            Expect(tokens, ref i, TokenKind.Eq, "unexpected {0} in label set, expected \"=\"");
            if (tokens[i].Kind != TokenKind.String)
            {
                throw Error(tokens[i], "unexpected " + Describe(tokens[i]) + " in label set, expected string");
            }

            var value = tokens[i++].Text!;
            if (!names.Add(name))
            {
                throw new LogQLParseException("duplicate label name " + Text.GoString.Quote(name));
            }

            if (value.Length > 0)
            {
                pairs.Add(new LabelPair(name, value));
            }

            if (tokens[i].Kind == TokenKind.Comma)
            {
                i++;
                continue;
            }

            if (tokens[i].Kind != TokenKind.CloseBrace)
            {
                throw Error(tokens[i], "unexpected " + Describe(tokens[i]) + " in label set, expected \",\" or \"}\"");
            }
        }

        i++;
        if (tokens[i].Kind != TokenKind.End)
        {
            throw Error(tokens[i], "unexpected " + Describe(tokens[i]) + ", expected end of input");
        }

        return LabelSet.From(pairs);
    }

    // Keywords are valid label names in a label set.
    private static string? LabelName(Token token) => token.Kind switch
    {
        TokenKind.Identifier when token.Text is { Length: > 0 } t && (char.IsLetter(t[0]) || t[0] == '_') => t,
        TokenKind.Identifier or TokenKind.String or TokenKind.Number or TokenKind.End or TokenKind.Error or TokenKind.Bytes
            or TokenKind.Duration or TokenKind.Range or TokenKind.FunctionFlag => null,
        _ => IsWord(TokenNames.Of(token.Kind)) ? TokenNames.Of(token.Kind) : null,
    };

    private static bool IsWord(string name) => name.Length > 0 && (char.IsAsciiLetterLower(name[0]) || name[0] == '_');

    private static void Expect(Token[] tokens, ref int i, TokenKind kind, string format)
    {
        if (tokens[i].Kind != kind)
        {
            throw Error(tokens[i], string.Format(System.Globalization.CultureInfo.InvariantCulture, format, Describe(tokens[i])));
        }

        i++;
    }

    private static string Describe(Token token) => token.Kind switch
    {
        TokenKind.End => "end of input",
        TokenKind.Identifier => "identifier " + Text.GoString.Quote(token.Text ?? string.Empty),
        TokenKind.String => "string",
        TokenKind.Number => "number",
        _ => Text.GoString.Quote(TokenNames.Of(token.Kind)),
    };

    private static LogQLParseException Error(Token token, string message) =>
        token.Kind == TokenKind.Error
            ? new LogQLParseException(token.Text!, token.Line, token.Column)
            : new LogQLParseException(message, Math.Max(token.Line, 1), token.Column);
}
