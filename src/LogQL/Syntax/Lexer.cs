using System.Text;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Syntax;

/// <summary>
/// LogQL's lexer, following Loki's rules: Go scanner tokens, case-insensitive keywords, function words that are
/// keywords only before <c>(</c> or <c>by/without (</c>, durations and byte sizes glued to numbers, raw
/// <c>[range]</c> tokens, <c>#</c>, <c>//</c> and <c>/* */</c> comments, and Loki's error positions.
/// </summary>
public static class Lexer
{
    /// <summary>
    /// Splits <paramref name="input"/> into tokens ending with <see cref="TokenKind.End"/>, or with a
    /// <see cref="TokenKind.Error"/> token holding the first lexical error (the parser reports it only if it gets
    /// that far, as Loki's lazy lexer does).
    /// </summary>
    public static Token[] Tokenize(string input)
    {
        var state = new State(input);
        var tokens = new List<Token>(Math.Max(8, input.Length / 4));
        while (true)
        {
            var token = state.Next() with { Index = tokens.Count };
            tokens.Add(token);
            if (token.Kind is TokenKind.End or TokenKind.Error)
            {
                return [.. tokens];
            }
        }
    }

    private struct State(string src)
    {
        private readonly string _src = src;
        private int _pos;
        private int _line = 1;
        private int _col;
        private int _lastLineLen;

        private int _tokLine;
        private int _tokCol;

        public Token Next()
        {
            while (true)
            {
                SkipWhitespace();
                MarkTokenStart();
                if (_pos >= _src.Length)
                {
                    return Make(TokenKind.End, null, 0, valid: true);
                }

                var c = _src[_pos];
                if (c == '#')
                {
                    while (_pos < _src.Length && _src[_pos] != '\n')
                    {
                        Advance();
                    }

                    continue;
                }

                if (c == '/' && _pos + 1 < _src.Length && (_src[_pos + 1] == '/' || _src[_pos + 1] == '*'))
                {
                    if (!SkipGoComment(out var error))
                    {
                        return Make(TokenKind.Error, error, 0, valid: true);
                    }

                    continue;
                }

                return Scan(c);
            }
        }

        private Token Scan(char c)
        {
            if (IsIdentStart(_pos))
            {
                return ScanWord();
            }

            if (char.IsAsciiDigit(c) || (c == '.' && _pos + 1 < _src.Length && char.IsAsciiDigit(_src[_pos + 1])))
            {
                return ScanNumber();
            }

            switch (c)
            {
                case '"':
                    return ScanQuoted('"');
                case '`':
                    return ScanRaw();
                case '\'':
                    return ScanCharLiteral();
                case '[':
                    return ScanRange();
                case '-':
                    return ScanMinus();
            }

            return ScanOperator();
        }

        private Token ScanWord()
        {
            var start = _pos;
            AdvanceRune();
            while (_pos < _src.Length && IsIdentPart(_pos))
            {
                AdvanceRune();
            }

            var text = _src[start.._pos];
            var lower = Keywords.IsAsciiLower(text) ? text : text.ToLowerInvariant();
            if (Keywords.Functions.TryGetValue(lower, out var fn))
            {
                return IsFunctionCall(_pos)
                    ? Make(fn.Kind, null, fn.Value, valid: true)
                    : Make(TokenKind.Identifier, text, 0, valid: true);
            }

            return Keywords.Reserved.TryGetValue(lower, out var kw)
                ? Make(kw, null, 0, valid: true)
                : Make(TokenKind.Identifier, text, 0, valid: true);
        }

        // Loki treats a function word as a keyword when the next non-blank text is "(" or "by"/"without"
        // (any case) followed by optional blanks and "(".
        private readonly bool IsFunctionCall(int pos)
        {
            pos = SkipSpaces(pos);
            if (pos >= _src.Length)
            {
                return false;
            }

            if (_src[pos] == '(')
            {
                return true;
            }

            if (pos + 2 <= _src.Length && _src.AsSpan(pos, 2).Equals("by", StringComparison.OrdinalIgnoreCase))
            {
                var p = SkipSpaces(pos + 2);
                return p < _src.Length && _src[p] == '(';
            }

            if (pos + 7 <= _src.Length && _src.AsSpan(pos, 7).Equals("without", StringComparison.OrdinalIgnoreCase))
            {
                var p = SkipSpaces(pos + 7);
                return p < _src.Length && _src[p] == '(';
            }

            return false;
        }

        private readonly int SkipSpaces(int pos)
        {
            while (pos < _src.Length && IsUnicodeSpace(_src[pos]))
            {
                pos++;
            }

            return pos;
        }

        private Token ScanNumber()
        {
            var start = _pos;
            if (!ScanGoNumber(out var error))
            {
                return Make(TokenKind.Error, error, 0, valid: true);
            }

            var text = _src[start.._pos];

            // A number directly followed by unit characters may be a duration, else a byte size.
            var durEnd = ScanWhile(_pos, IsDurationChar);
            if (durEnd > _pos)
            {
                var d = GoDuration.TryParseLogQL(_src.AsSpan(start, durEnd - start));
                if (d is { } duration)
                {
                    MoveTo(durEnd);
                    return Make(TokenKind.Duration, null, duration.Nanoseconds, valid: false);
                }
            }

            var bytesEnd = ScanWhile(_pos, IsBytesChar);
            if (bytesEnd > _pos && HumanBytes.TryParse(_src.AsSpan(start, bytesEnd - start), out var bytes, out _))
            {
                MoveTo(bytesEnd);
                return Make(TokenKind.Bytes, null, unchecked((long)bytes), valid: false);
            }

            return Make(TokenKind.Number, text, 0, valid: true);
        }

        private readonly int ScanWhile(int pos, Func<char, bool> accept)
        {
            while (pos < _src.Length && !IsUnicodeSpace(_src[pos]) && accept(_src[pos]))
            {
                pos++;
            }

            return pos;
        }

        private static bool IsDurationChar(char c) =>
            char.IsDigit(c) || c is '.' or 'n' or 'u' or 'µ' or 'm' or 's' or 'h' or 'd' or 'w' or 'y';

        private static bool IsBytesChar(char c) =>
            char.IsDigit(c) || c is '.' or 'B' or 'i' or 'k' or 'K' or 'M' or 'G' or 'T' or 'P';

        // Go's scanner number syntax: prefixes 0x 0b 0o and legacy octal, '_' separators, fractions, exponents.
        private bool ScanGoNumber(out string? error)
        {
            error = null;
            var baseChar = '\0';
            var invalidDigit = '\0';
            var isFloat = false;
            var digits = 0;
            if (_src[_pos] != '.')
            {
                if (_src[_pos] == '0' && _pos + 1 < _src.Length && char.ToLowerInvariant(_src[_pos + 1]) is 'x' or 'b' or 'o')
                {
                    baseChar = char.ToLowerInvariant(_src[_pos + 1]);
                    Advance();
                    Advance();
                }
                else if (_src[_pos] == '0')
                {
                    baseChar = '0';
                    Advance();
                    digits++;
                }

                digits += ScanDigits(baseChar, ref invalidDigit);
            }

            if (_pos < _src.Length && _src[_pos] == '.')
            {
                if (baseChar is 'b' or 'o')
                {
                    error = "invalid radix point in " + LiteralName(baseChar);
                }

                isFloat = true;
                Advance();
                digits += ScanDigits(baseChar == 'x' ? 'x' : '\0', ref invalidDigit);
            }

            if (digits == 0 && error is null)
            {
                error = LiteralName(baseChar) + " has no digits";
            }

            if (_pos < _src.Length)
            {
                var e = char.ToLowerInvariant(_src[_pos]);
                if (e == 'e' || (e == 'p' && baseChar == 'x'))
                {
                    if (e == 'e' && baseChar is not ('\0' or '0'))
                    {
                        error ??= "'" + _src[_pos] + "' exponent requires decimal mantissa";
                    }

                    Advance();
                    isFloat = true;
                    if (_pos < _src.Length && _src[_pos] is '+' or '-')
                    {
                        Advance();
                    }

                    var none = '\0';
                    if (ScanDigits('\0', ref none) == 0)
                    {
                        error ??= "exponent has no digits";
                    }
                }
                else if (baseChar == 'x' && isFloat)
                {
                    error ??= "hexadecimal mantissa requires a 'p' exponent";
                }
            }
            else if (baseChar == 'x' && isFloat)
            {
                error ??= "hexadecimal mantissa requires a 'p' exponent";
            }

            if (!isFloat && invalidDigit != '\0')
            {
                error ??= "invalid digit '" + invalidDigit + "' in " + LiteralName(baseChar);
            }

            return error is null;
        }

        private int ScanDigits(char baseChar, ref char invalid)
        {
            var count = 0;
            var max = baseChar switch
            {
                'b' => 2,
                '0' or 'o' => 8,
                'x' => 16,
                _ => 10,
            };
            while (_pos < _src.Length)
            {
                var c = _src[_pos];
                int v;
                if (char.IsAsciiDigit(c))
                {
                    v = c - '0';
                }
                else if (max == 16 && char.IsAsciiHexDigit(c))
                {
                    v = 10;
                }
                else if (c != '_')
                {
                    break;
                }
                else
                {
                    Advance();
                    continue;
                }

                if (v >= max && invalid == '\0' && max <= 10)
                {
                    invalid = c;
                }

                Advance();
                count++;
            }

            return count;
        }

        private static string LiteralName(char baseChar) => baseChar switch
        {
            'x' => "hexadecimal literal",
            'o' or '0' => "octal literal",
            'b' => "binary literal",
            _ => "decimal literal",
        };

        private Token ScanQuoted(char quote)
        {
            var start = _pos;
            Advance();
            string? error = null;
            while (true)
            {
                if (_pos >= _src.Length || _src[_pos] == '\n')
                {
                    return Make(TokenKind.Error, "literal not terminated", 0, valid: true);
                }

                var c = _src[_pos];
                if (c == quote)
                {
                    Advance();
                    break;
                }

                if (c == '\\')
                {
                    Advance();
                    error ??= ScanEscape(quote);
                    continue;
                }

                AdvanceRune();
            }

            if (error is not null)
            {
                return Make(TokenKind.Error, error, 0, valid: true);
            }

            return GoString.TryUnquote(_src.AsSpan(start, _pos - start), out var value)
                ? Make(TokenKind.String, value, 0, valid: true)
                : Make(TokenKind.Error, "invalid syntax", 0, valid: true);
        }

        private string? ScanEscape(char quote)
        {
            if (_pos >= _src.Length)
            {
                return "invalid char escape";
            }

            var c = _src[_pos];
            switch (c)
            {
                case 'a' or 'b' or 'f' or 'n' or 'r' or 't' or 'v' or '\\':
                    Advance();
                    return null;
                case >= '0' and <= '7':
                    return ScanEscapeDigits(8, 3);
                case 'x':
                    Advance();
                    return ScanEscapeDigits(16, 2);
                case 'u':
                    Advance();
                    return ScanEscapeDigits(16, 4);
                case 'U':
                    Advance();
                    return ScanEscapeDigits(16, 8);
            }

            if (c == quote)
            {
                Advance();
                return null;
            }

            return "invalid char escape";
        }

        private string? ScanEscapeDigits(int radix, int n)
        {
            while (n > 0 && _pos < _src.Length && DigitValue(_src[_pos]) < radix)
            {
                Advance();
                n--;
            }

            return n > 0 ? "invalid char escape" : null;
        }

        private static int DigitValue(char c) => c switch
        {
            >= '0' and <= '9' => c - '0',
            >= 'a' and <= 'f' => c - 'a' + 10,
            >= 'A' and <= 'F' => c - 'A' + 10,
            _ => 16,
        };

        private Token ScanRaw()
        {
            var start = _pos;
            Advance();
            while (true)
            {
                if (_pos >= _src.Length)
                {
                    return Make(TokenKind.Error, "literal not terminated", 0, valid: true);
                }

                if (_src[_pos] == '`')
                {
                    Advance();
                    break;
                }

                AdvanceRune();
            }

            GoString.TryUnquote(_src.AsSpan(start, _pos - start), out var value);
            return Make(TokenKind.String, value, 0, valid: true);
        }

        // Go's scanner reads 'x' as a character literal; Loki then treats its text as an identifier.
        private Token ScanCharLiteral()
        {
            var start = _pos;
            Advance();
            var count = 0;
            while (true)
            {
                if (_pos >= _src.Length || _src[_pos] == '\n')
                {
                    return Make(TokenKind.Error, "literal not terminated", 0, valid: true);
                }

                var c = _src[_pos];
                if (c == '\'')
                {
                    Advance();
                    break;
                }

                if (c == '\\')
                {
                    Advance();
                    var error = ScanEscape('\'');
                    if (error is not null)
                    {
                        return Make(TokenKind.Error, error, 0, valid: true);
                    }
                }
                else
                {
                    AdvanceRune();
                }

                count++;
            }

            return count != 1
                ? Make(TokenKind.Error, "invalid char literal", 0, valid: true)
                : Make(TokenKind.Identifier, _src[start.._pos], 0, valid: true);
        }

        private Token ScanRange()
        {
            Advance();
            var start = _pos;
            while (_pos < _src.Length && _src[_pos] != ']')
            {
                AdvanceRune();
            }

            if (_pos >= _src.Length)
            {
                return Make(TokenKind.Error, "missing closing ']' in duration", 0, valid: false);
            }

            var inner = _src.AsSpan(start, _pos - start);
            Advance();
            var d = GoDuration.TryParsePrometheus(inner, out var error);
            return d is { } range
                ? Make(TokenKind.Range, null, range.Nanoseconds, valid: false)
                : Make(TokenKind.Error, error, 0, valid: false);
        }

        private Token ScanMinus()
        {
            if (_pos + 1 < _src.Length && _src[_pos + 1] == '-')
            {
                var end = _pos + 1;
                while (end < _src.Length && (char.IsLetter(_src[end]) || _src[end] == '-'))
                {
                    end++;
                }

                var flag = _src.AsSpan(_pos, end - _pos);
                if (flag is "--strict" or "--keep-empty")
                {
                    var text = flag.ToString();
                    MoveTo(end);
                    return Make(TokenKind.FunctionFlag, text, 0, valid: false);
                }
            }

            var durEnd = ScanWhile(_pos + 1, IsDurationChar);
            if (durEnd > _pos + 1 && GoDuration.TryParseLogQL(_src.AsSpan(_pos, durEnd - _pos)) is { } d)
            {
                MoveTo(durEnd);
                return Make(TokenKind.Duration, null, d.Nanoseconds, valid: false);
            }

            Advance();
            return Make(TokenKind.Sub, null, 0, valid: true);
        }

        private Token ScanOperator()
        {
            var c = _src[_pos];
            var next = _pos + 1 < _src.Length ? _src[_pos + 1] : '\0';
            var two = (c, next) switch
            {
                ('!', '=') => TokenKind.Neq,
                ('=', '~') => TokenKind.Re,
                ('!', '~') => TokenKind.Nre,
                ('!', '>') => TokenKind.Npa,
                ('|', '=') => TokenKind.PipeExact,
                ('|', '~') => TokenKind.PipeMatch,
                ('|', '>') => TokenKind.PipePattern,
                ('=', '=') => TokenKind.CmpEq,
                ('>', '=') => TokenKind.Gte,
                ('<', '=') => TokenKind.Lte,
                _ => TokenKind.End,
            };
            if (two != TokenKind.End)
            {
                Advance();
                Advance();
                return Make(two, null, 0, valid: false);
            }

            var one = c switch
            {
                ',' => TokenKind.Comma,
                '.' => TokenKind.Dot,
                '{' => TokenKind.OpenBrace,
                '}' => TokenKind.CloseBrace,
                '=' => TokenKind.Eq,
                '|' => TokenKind.Pipe,
                '(' => TokenKind.OpenParenthesis,
                ')' => TokenKind.CloseParenthesis,
                ']' => TokenKind.CloseBracket,
                '+' => TokenKind.Add,
                '*' => TokenKind.Mul,
                '/' => TokenKind.Div,
                '%' => TokenKind.Mod,
                '^' => TokenKind.Pow,
                '>' => TokenKind.Gt,
                '<' => TokenKind.Lt,
                _ => TokenKind.Identifier,
            };
            var start = _pos;
            AdvanceRune();
            return Make(one, one == TokenKind.Identifier ? _src[start.._pos] : null, 0, valid: true);
        }

        private bool SkipGoComment(out string? error)
        {
            error = null;
            if (_src[_pos + 1] == '/')
            {
                while (_pos < _src.Length && _src[_pos] != '\n')
                {
                    Advance();
                }

                return true;
            }

            Advance();
            Advance();
            while (_pos < _src.Length)
            {
                if (_src[_pos] == '*' && _pos + 1 < _src.Length && _src[_pos + 1] == '/')
                {
                    Advance();
                    Advance();
                    return true;
                }

                AdvanceRune();
            }

            error = "comment not terminated";
            return false;
        }

        private readonly bool IsIdentStart(int pos)
        {
            var c = _src[pos];
            if (c == '_' || char.IsAsciiLetter(c))
            {
                return true;
            }

            if (c < 0x80)
            {
                return false;
            }

            return Rune.TryGetRuneAt(_src, pos, out var r) && Rune.IsLetter(r);
        }

        private readonly bool IsIdentPart(int pos)
        {
            var c = _src[pos];
            if (c == '_' || char.IsAsciiLetterOrDigit(c))
            {
                return true;
            }

            if (c < 0x80)
            {
                return false;
            }

            return Rune.TryGetRuneAt(_src, pos, out var r) && (Rune.IsLetter(r) || Rune.IsDigit(r));
        }

        private static bool IsUnicodeSpace(char c) => c is ' ' or '\t' or '\n' or '\r' or '\v' or '\f' || (c > 0x7f && char.IsWhiteSpace(c));

        private void SkipWhitespace()
        {
            while (_pos < _src.Length && _src[_pos] is ' ' or '\t' or '\n' or '\r')
            {
                Advance();
            }
        }

        // Go's scanner positions: the column of the token's first rune; at end of input right after a newline
        // it reports the previous line and its length.
        private void MarkTokenStart()
        {
            if (_pos >= _src.Length && _col == 0)
            {
                _tokLine = _line - 1;
                _tokCol = _lastLineLen;
                return;
            }

            _tokLine = _line;
            _tokCol = _col + 1;
        }

        private readonly Token Make(TokenKind kind, string? text, long value, bool valid) =>
            new(kind, text, value, valid ? _tokLine : 0, _tokCol);

        private void Advance()
        {
            if (_src[_pos] == '\n')
            {
                _line++;
                _lastLineLen = _col + 1;
                _col = 0;
            }
            else
            {
                _col++;
            }

            _pos++;
        }

        private void AdvanceRune()
        {
            if (char.IsHighSurrogate(_src[_pos]) && _pos + 1 < _src.Length && char.IsLowSurrogate(_src[_pos + 1]))
            {
                _pos += 2;
                _col++;
                return;
            }

            Advance();
        }

        private void MoveTo(int end)
        {
            while (_pos < end)
            {
                AdvanceRune();
            }
        }
    }
}

/// <summary>Keyword tables of LogQL's lexer.</summary>
internal static class Keywords
{
    /// <summary>
    /// Words that are keywords only before <c>(</c> or <c>by/without (</c>: the range functions of
    /// <see cref="RangeFunction.All"/> and vector aggregations of <see cref="VectorFunction.All"/> (the token's value
    /// is the function's <see cref="RangeOp"/> or <see cref="VectorOp"/>), and these.
    /// </summary>
    public static readonly Dictionary<string, (TokenKind Kind, long Value)> Functions = BuildFunctions(new(StringComparer.Ordinal)
    {
        ["vector"] = TokenKind.Vector,
        ["label_replace"] = TokenKind.LabelReplace,
        ["bytes"] = TokenKind.BytesConv,
        ["duration"] = TokenKind.DurationConv,
        ["duration_seconds"] = TokenKind.DurationSecondsConv,
        ["ip"] = TokenKind.Ip,
    });

    private static Dictionary<string, (TokenKind Kind, long Value)> BuildFunctions(Dictionary<string, TokenKind> others)
    {
        var functions = new Dictionary<string, (TokenKind Kind, long Value)>(StringComparer.Ordinal);
        foreach (var function in RangeFunction.All)
        {
            functions.Add(function.Name, (TokenKind.RangeFunction, (long)function.Op));
        }

        foreach (var function in VectorFunction.All)
        {
            functions.Add(function.Name, (TokenKind.VectorFunction, (long)function.Op));
        }

        foreach (var (word, kind) in others)
        {
            functions.Add(word, (kind, 0));
        }

        return functions;
    }

    /// <summary>Words that are always keywords.</summary>
    public static readonly Dictionary<string, TokenKind> Reserved = new(StringComparer.Ordinal)
    {
        ["by"] = TokenKind.By,
        ["without"] = TokenKind.Without,
        ["bool"] = TokenKind.Bool,
        ["offset"] = TokenKind.Offset,
        ["on"] = TokenKind.On,
        ["ignoring"] = TokenKind.Ignoring,
        ["group_left"] = TokenKind.GroupLeft,
        ["group_right"] = TokenKind.GroupRight,
        ["or"] = TokenKind.Or,
        ["and"] = TokenKind.And,
        ["unless"] = TokenKind.Unless,
        ["json"] = TokenKind.Json,
        ["logfmt"] = TokenKind.Logfmt,
        ["regexp"] = TokenKind.Regexp,
        ["unpack"] = TokenKind.Unpack,
        ["pattern"] = TokenKind.Pattern,
        ["line_format"] = TokenKind.LineFormat,
        ["label_format"] = TokenKind.LabelFormat,
        ["decolorize"] = TokenKind.Decolorize,
        ["drop"] = TokenKind.Drop,
        ["keep"] = TokenKind.Keep,
        ["unwrap"] = TokenKind.Unwrap,
    };

    public static bool IsAsciiLower(string s)
    {
        foreach (var c in s)
        {
            if (c is >= 'A' and <= 'Z' || c > 0x7f)
            {
                return false;
            }
        }

        return true;
    }
}
