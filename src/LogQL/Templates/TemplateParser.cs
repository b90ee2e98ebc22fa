using System.Globalization;

namespace LokiSharp.LogQL.Templates;

/// <summary>A template that failed to parse; the message is Go's (<c>template: line:1: ...</c>).</summary>
public sealed class TemplateParseException(string message) : Exception(message);

/// <summary>Parses Go text/template source into nodes (the subset of syntax Loki templates can use).</summary>
internal sealed class TemplateParser
{
    private enum TokenKind
    {
        Identifier,
        Field,
        Dot,
        Variable,
        String,
        Char,
        Number,
        Bool,
        Nil,
        LeftParen,
        RightParen,
        Pipe,
        Declare,
        Assign,
        Comma,
        End,
    }

    private readonly record struct Token(TokenKind Kind, string Text, int Pos, bool SpaceBefore);

    private readonly string _name;
    private readonly string _text;
    private readonly Func<string, bool> _isFunction;
    private int _pos;

    // Tokens of the current action.
    private List<Token> _tokens = [];
    private int _next;
    private readonly List<HashSet<string>> _scopes = [["$"]];
    private int _rangeDepth;

    // Nesting of parenthesized pipelines and control blocks: parsing and executing recurse per level.
    private int _depth;

    private TemplateParser(string name, string text, Func<string, bool> isFunction)
    {
        _name = name;
        _text = text;
        _isFunction = isFunction;
    }

    public static ListNode Parse(string name, string text, Func<string, bool> isFunction)
    {
        var parser = new TemplateParser(name, text, isFunction);
        var root = new ListNode(0);
        var terminator = parser.ParseList(root, topLevel: true);
        if (terminator is not null)
        {
            throw parser.Error("unexpected " + terminator, parser._lastActionPos);
        }

        return root;
    }

    private int _lastActionPos;
    private bool _trimNextText;

    // Parses nodes into list until {{end}}/{{else ...}}; returns that keyword ("end", "else") or null at EOF.
    private string? ParseList(ListNode list, bool topLevel)
    {
        while (true)
        {
            var open = _text.IndexOf("{{", _pos, StringComparison.Ordinal);
            var textEnd = open < 0 ? _text.Length : open;
            var text = _text[_pos..textEnd];
            var textPos = _pos;
            if (_trimNextText)
            {
                var trimmed = text.TrimStart(' ', '\t', '\r', '\n');
                textPos += text.Length - trimmed.Length;
                text = trimmed;
                _trimNextText = false;
            }

            var actionStart = open + 2;
            if (open >= 0 && actionStart + 1 < _text.Length && _text[actionStart] == '-' && IsSpace(_text[actionStart + 1]))
            {
                text = text.TrimEnd(' ', '\t', '\r', '\n');
                actionStart += 1;
            }

            if (text.Length > 0)
            {
                list.Nodes.Add(new TextNode(textPos, text));
            }

            if (open < 0)
            {
                _pos = _text.Length;
                if (!topLevel)
                {
                    throw Error("unexpected EOF", _text.Length);
                }

                return null;
            }

            _lastActionPos = open;
            _pos = actionStart;
            if (TrySkipComment())
            {
                continue;
            }

            LexAction();
            var first = Peek();
            if (first.Kind == TokenKind.Identifier)
            {
                switch (first.Text)
                {
                    case "end":
                        Next();
                        ExpectEnd("end");
                        if (topLevel)
                        {
                            throw Error("unexpected {{end}}", first.Pos);
                        }

                        return "end";
                    case "else":
                        if (topLevel)
                        {
                            throw Error("unexpected {{else}}", first.Pos);
                        }

                        Next();
                        return "else";
                    case "if":
                    case "range":
                    case "with":
                        Next();
                        list.Nodes.Add(ParseBranch(first));
                        continue;
                    case "break":
                    case "continue":
                        Next();
                        if (_rangeDepth == 0)
                        {
                            throw Error("{{" + first.Text + "}} outside {{range}}", first.Pos);
                        }

                        ExpectEnd(first.Text);
                        list.Nodes.Add(new LoopControlNode(first.Pos, first.Text == "break"));
                        continue;
                    case "define":
                    case "template":
                    case "block":
                        throw Error("{{" + first.Text + "}} is not supported in Loki templates", first.Pos);
                }
            }

            var pipe = ParsePipeline("command", allowDeclarations: true);
            list.Nodes.Add(new ActionNode(first.Pos, pipe));
        }
    }

    private TemplateNode ParseBranch(Token keyword)
    {
        Enter(keyword.Pos);
        try
        {
            return ParseBranchBody(keyword);
        }
        finally
        {
            _depth--;
        }
    }

    // Go caps parenthesized pipelines at 10000 levels with this text and leaves control blocks to its growable
    // stacks; a thread's fixed stack here needs one much lower cap for both.
    private void Enter(int pos)
    {
        if (_depth >= GoTemplate.MaxNestingDepth)
        {
            throw Error("max expression depth exceeded", pos);
        }

        _depth++;
    }

    private TemplateNode ParseBranchBody(Token keyword)
    {
        var kind = keyword.Text switch { "if" => BranchKind.If, "range" => BranchKind.Range, _ => BranchKind.With };
        _scopes.Add([]);
        var pipe = ParsePipeline(keyword.Text, allowDeclarations: true, rangeDeclarations: kind == BranchKind.Range);
        if (kind == BranchKind.Range)
        {
            _rangeDepth++;
        }

        var list = new ListNode(_pos);
        var terminator = ParseList(list, topLevel: false);
        if (kind == BranchKind.Range)
        {
            _rangeDepth--;
        }

        ListNode? elseList = null;
        if (terminator == "else")
        {
            // "else if" / "else with" chains nest a branch inside the else list, closed by the same {{end}}.
            var next = Peek();
            if (next.Kind == TokenKind.Identifier && (next.Text == "if" && kind == BranchKind.If || next.Text == "with" && kind == BranchKind.With))
            {
                Next();
                elseList = new ListNode(next.Pos);
                _scopes.RemoveAt(_scopes.Count - 1);
                _scopes.Add([]);
                elseList.Nodes.Add(ParseBranch(next));
                _scopes.RemoveAt(_scopes.Count - 1);
                return new BranchNode(keyword.Pos, kind, pipe, list, elseList);
            }

            ExpectEnd("else");
            elseList = new ListNode(_pos);
            terminator = ParseList(elseList, topLevel: false);
            if (terminator != "end")
            {
                throw Error("expected end; found {{else}}", _lastActionPos);
            }
        }

        _scopes.RemoveAt(_scopes.Count - 1);
        return new BranchNode(keyword.Pos, kind, pipe, list, elseList);
    }

    private void ExpectEnd(string context)
    {
        if (Peek().Kind != TokenKind.End)
        {
            throw Error("unexpected " + Describe(Peek()) + " in " + context, Peek().Pos);
        }
    }

    private PipeNode ParsePipeline(string context, bool allowDeclarations, bool rangeDeclarations = false)
    {
        var pipe = new PipeNode(Peek().Pos);
        if (allowDeclarations && Peek().Kind == TokenKind.Variable)
        {
            var save = _next;
            var v = Next();
            var after = Peek();
            if (after.Kind is TokenKind.Declare or TokenKind.Assign)
            {
                Next();
                pipe.Declarations.Add(v.Text);
                pipe.IsAssign = after.Kind == TokenKind.Assign;
            }
            else if (after.Kind == TokenKind.Comma && rangeDeclarations)
            {
                Next();
                var v2 = Next();
                var op = Next();
                if (v2.Kind != TokenKind.Variable || op.Kind is not (TokenKind.Declare or TokenKind.Assign))
                {
                    throw Error("too many declarations in range", v.Pos);
                }

                pipe.Declarations.Add(v.Text);
                pipe.Declarations.Add(v2.Text);
                pipe.IsAssign = op.Kind == TokenKind.Assign;
            }
            else
            {
                _next = save;
            }

            if (pipe.Declarations.Count > 0 && !pipe.IsAssign)
            {
                foreach (var d in pipe.Declarations)
                {
                    _scopes[^1].Add(d);
                }
            }
            else if (pipe.IsAssign)
            {
                foreach (var d in pipe.Declarations)
                {
                    CheckVariable(d, v.Pos);
                }
            }
        }

        while (true)
        {
            var t = Peek();
            if (t.Kind == TokenKind.End)
            {
                if (pipe.Commands.Count == 0)
                {
                    throw Error("missing value for " + context, t.Pos);
                }

                Next();
                return pipe;
            }

            if (t.Kind == TokenKind.RightParen && context == "parenthesized pipeline")
            {
                if (pipe.Commands.Count == 0)
                {
                    throw Error("missing value for " + context, t.Pos);
                }

                Next();
                return pipe;
            }

            pipe.Commands.Add(ParseCommand());
        }
    }

    private CommandNode ParseCommand()
    {
        var cmd = new CommandNode(Peek().Pos);
        while (true)
        {
            var t = Peek();
            if (t.Kind is TokenKind.End or TokenKind.RightParen)
            {
                break;
            }

            if (t.Kind == TokenKind.Pipe)
            {
                Next();
                if (cmd.Args.Count == 0)
                {
                    throw Error("missing command", t.Pos);
                }

                return cmd;
            }

            if (cmd.Args.Count > 0 && !t.SpaceBefore && t.Kind != TokenKind.LeftParen)
            {
                throw Error("missing space?", t.Pos);
            }

            cmd.Args.Add(ParseOperand());
        }

        if (cmd.Args.Count == 0)
        {
            throw Error("empty command", Peek().Pos);
        }

        return cmd;
    }

    private TemplateNode ParseOperand()
    {
        var term = ParseTerm();
        if (Peek().Kind == TokenKind.Field && !Peek().SpaceBefore)
        {
            var fields = new List<string>();
            while (Peek().Kind == TokenKind.Field && !Peek().SpaceBefore)
            {
                fields.Add(Next().Text[1..]);
            }

            switch (term)
            {
                case FieldNode f:
                    return new FieldNode(f.Pos, [.. f.Idents, .. fields]);
                case VariableNode v:
                    return new VariableNode(v.Pos, [.. v.Idents, .. fields]);
                case BoolNode or StringNode or NumberNode or NilNode or DotNode:
                    throw Error("unexpected . after term " + GoQuote(term.ToString()), term.Pos);
                default:
                    return new ChainNode(term.Pos, term, [.. fields]);
            }
        }

        return term;
    }

    private TemplateNode ParseTerm()
    {
        var t = Next();
        switch (t.Kind)
        {
            case TokenKind.Identifier:
                if (!_isFunction(t.Text))
                {
                    throw Error("function " + GoQuote(t.Text) + " not defined", t.Pos);
                }

                return new IdentifierNode(t.Pos, t.Text);
            case TokenKind.Dot:
                return new DotNode(t.Pos);
            case TokenKind.Nil:
                return new NilNode(t.Pos);
            case TokenKind.Variable:
                CheckVariable(t.Text, t.Pos);
                return new VariableNode(t.Pos, [t.Text]);
            case TokenKind.Field:
                return new FieldNode(t.Pos, [t.Text[1..]]);
            case TokenKind.Bool:
                return new BoolNode(t.Pos, t.Text == "true");
            case TokenKind.Number:
            case TokenKind.Char:
                return ParseNumber(t);
            case TokenKind.String:
                return new StringNode(t.Pos, t.Text, Unquote(t));
            case TokenKind.LeftParen:
                Enter(t.Pos);
                try
                {
                    return ParsePipeline("parenthesized pipeline", allowDeclarations: false);
                }
                finally
                {
                    _depth--;
                }

            default:
                throw Error("unexpected " + Describe(t) + " in operand", t.Pos);
        }
    }

    private void CheckVariable(string name, int pos)
    {
        foreach (var scope in _scopes)
        {
            if (scope.Contains(name))
            {
                return;
            }
        }

        throw Error("undefined variable " + GoQuote(name), pos);
    }

    private NumberNode ParseNumber(Token t)
    {
        var text = t.Text;
        if (t.Kind == TokenKind.Char)
        {
            var body = text[1..^1];
            int value;
            if (body.Length > 1 && body[0] == '\\')
            {
                value = Escape(body[1]);
            }
            else if (body.Length == 0 || char.IsLowSurrogate(body[0]) || (char.IsHighSurrogate(body[0]) && !char.IsSurrogatePair(body, 0)))
            {
                // Go's strconv.UnquoteChar finds no character ('') or no valid one.
                throw Error("invalid syntax", t.Pos);
            }
            else
            {
                value = char.ConvertToUtf32(body, 0);
                if (body.Length > char.ConvertFromUtf32(value).Length)
                {
                    throw Error("malformed character constant: " + text, t.Pos);
                }
            }

            return new NumberNode(t.Pos, text, value, value);
        }

        var clean = text.Replace("_", string.Empty, StringComparison.Ordinal);
        long? integer = null;
        double? floating = null;
        var sign = 1L;
        var digits = clean;
        if (digits.StartsWith('+') || digits.StartsWith('-'))
        {
            sign = digits[0] == '-' ? -1 : 1;
            digits = digits[1..];
        }

        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && !digits.Contains('p', StringComparison.OrdinalIgnoreCase) &&
            long.TryParse(digits[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
        {
            integer = sign * hex;
        }
        else if (digits.StartsWith("0b", StringComparison.OrdinalIgnoreCase) && TryParseBase(digits[2..], 2, out var bin))
        {
            integer = sign * bin;
        }
        else if (digits.StartsWith("0o", StringComparison.OrdinalIgnoreCase) && TryParseBase(digits[2..], 8, out var oct))
        {
            integer = sign * oct;
        }
        else if (digits.Length > 1 && digits[0] == '0' && digits.All(char.IsAsciiDigit) && TryParseBase(digits[1..], 8, out var oct2))
        {
            integer = sign * oct2;
        }
        else if (long.TryParse(clean, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var dec))
        {
            integer = dec;
        }

        if (integer is { } i)
        {
            floating = i;
        }
        else if (double.TryParse(clean, NumberStyles.Float, CultureInfo.InvariantCulture, out var f))
        {
            floating = f;
            if (f == Math.Floor(f) && Math.Abs(f) < 9.2e18 && !clean.Contains('.', StringComparison.Ordinal)
                && !clean.Contains('e', StringComparison.OrdinalIgnoreCase))
            {
                integer = (long)f;
            }
        }
        else
        {
            throw Error("illegal number syntax: " + GoQuote(text), t.Pos);
        }

        return new NumberNode(t.Pos, text, integer, floating);
    }

    private static bool TryParseBase(string digits, int radix, out long value)
    {
        value = 0;
        if (digits.Length == 0)
        {
            return false;
        }

        foreach (var c in digits)
        {
            var d = c - '0';
            if (d < 0 || d >= radix)
            {
                return false;
            }

            value = (value * radix) + d;
        }

        return true;
    }

    private static int Escape(char c) => c switch
    {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        '0' => 0,
        'a' => 7,
        'b' => 8,
        'f' => 12,
        'v' => 11,
        _ => c,
    };

    private string Unquote(Token t)
    {
        if (t.Text[0] == '`')
        {
            return t.Text[1..^1];
        }

        if (!Text.GoString.TryUnquote(t.Text, out var value))
        {
            throw Error("invalid syntax", t.Pos);
        }

        return value;
    }

    private Token Peek() => _tokens[_next];

    private Token Next()
    {
        var t = _tokens[_next];
        if (t.Kind != TokenKind.End)
        {
            _next++;
        }

        return t;
    }

    private bool TrySkipComment()
    {
        var p = _pos;
        while (p < _text.Length && IsSpace(_text[p]) && _text[_pos - 1] == '-')
        {
            p++;
        }

        if (!_text.AsSpan(p).StartsWith("/*"))
        {
            return false;
        }

        var close = _text.IndexOf("*/", p + 2, StringComparison.Ordinal);
        if (close < 0)
        {
            throw Error("unclosed comment", p);
        }

        var after = close + 2;
        if (_text.AsSpan(after).StartsWith(" -}}"))
        {
            _trimNextText = true;
            _pos = after + 4;
            return true;
        }

        if (!_text.AsSpan(after).StartsWith("}}"))
        {
            throw Error("comment ends before closing delimiter", p);
        }

        _pos = after + 2;
        return true;
    }

    // Lexes the tokens of one action starting at _pos, up to and including its closing delimiter.
    private void LexAction()
    {
        _tokens = [];
        _next = 0;
        var space = false;
        var parenDepth = 0;
        while (true)
        {
            if (_pos >= _text.Length)
            {
                throw Error("unclosed action", _lastActionPos);
            }

            var c = _text[_pos];
            if (c == ' ' && _text.AsSpan(_pos).StartsWith(" -}}"))
            {
                _tokens.Add(new Token(TokenKind.End, string.Empty, _pos, true));
                _pos += 4;
                _trimNextText = true;
                break;
            }

            if (c == '}' && _text.AsSpan(_pos).StartsWith("}}"))
            {
                if (parenDepth > 0)
                {
                    throw Error("unclosed left paren", _pos);
                }

                _tokens.Add(new Token(TokenKind.End, string.Empty, _pos, space));
                _pos += 2;
                break;
            }

            if (IsSpace(c))
            {
                if (c is '\n' or '\r')
                {
                    // Newlines are allowed inside actions since Go 1.16.
                }

                space = true;
                _pos++;
                continue;
            }

            var start = _pos;
            TokenKind kind;
            switch (c)
            {
                case '(':
                    parenDepth++;
                    kind = TokenKind.LeftParen;
                    _pos++;
                    break;
                case ')':
                    parenDepth--;
                    if (parenDepth < 0)
                    {
                        throw Error("unexpected right paren", _pos);
                    }

                    kind = TokenKind.RightParen;
                    _pos++;
                    break;
                case '|':
                    kind = TokenKind.Pipe;
                    _pos++;
                    break;
                case ',':
                    kind = TokenKind.Comma;
                    _pos++;
                    break;
                case ':':
                    if (_pos + 1 >= _text.Length || _text[_pos + 1] != '=')
                    {
                        throw Error("expected :=", _pos);
                    }

                    kind = TokenKind.Declare;
                    _pos += 2;
                    break;
                case '=':
                    kind = TokenKind.Assign;
                    _pos++;
                    break;
                case '"':
                    kind = TokenKind.String;
                    _pos++;
                    while (true)
                    {
                        if (_pos >= _text.Length || _text[_pos] == '\n')
                        {
                            throw Error("unterminated quoted string", start);
                        }

                        if (_text[_pos] == '\\')
                        {
                            _pos += 2;
                            continue;
                        }

                        if (_text[_pos++] == '"')
                        {
                            break;
                        }
                    }

                    break;
                case '`':
                    {
                        kind = TokenKind.String;
                        var close = _text.IndexOf('`', _pos + 1);
                        if (close < 0)
                        {
                            throw Error("unterminated raw quoted string", start);
                        }

                        _pos = close + 1;
                        break;
                    }

                case '\'':
                    {
                        kind = TokenKind.Char;
                        _pos++;
                        while (_pos < _text.Length && _text[_pos] != '\'')
                        {
                            _pos += _text[_pos] == '\\' ? 2 : 1;
                        }

                        if (_pos >= _text.Length)
                        {
                            throw Error("unterminated character constant", start);
                        }

                        _pos++;
                        break;
                    }

                case '$':
                    kind = TokenKind.Variable;
                    _pos++;
                    while (_pos < _text.Length && IsAlphaNumeric(_text[_pos]))
                    {
                        _pos++;
                    }

                    break;
                case '.':
                    if (_pos + 1 < _text.Length && char.IsAsciiDigit(_text[_pos + 1]))
                    {
                        kind = TokenKind.Number;
                        LexNumber();
                        break;
                    }

                    _pos++;
                    if (_pos < _text.Length && IsAlphaNumeric(_text[_pos]))
                    {
                        while (_pos < _text.Length && IsAlphaNumeric(_text[_pos]))
                        {
                            _pos++;
                        }

                        kind = TokenKind.Field;
                    }
                    else
                    {
                        kind = TokenKind.Dot;
                    }

                    break;
                default:
                    if (c is '+' or '-' || char.IsAsciiDigit(c))
                    {
                        kind = TokenKind.Number;
                        LexNumber();
                        break;
                    }

                    if (IsAlphaNumeric(c))
                    {
                        while (_pos < _text.Length && IsAlphaNumeric(_text[_pos]))
                        {
                            _pos++;
                        }

                        var word = _text[start.._pos];
                        kind = word switch
                        {
                            "true" or "false" => TokenKind.Bool,
                            "nil" => TokenKind.Nil,
                            _ => TokenKind.Identifier,
                        };
                        break;
                    }

                    throw Error("unrecognized character in action: " + GoQuoteRune(c), start);
            }

            _tokens.Add(new Token(kind, _text[start.._pos], start, space));
            space = false;
        }
    }

    private void LexNumber()
    {
        var start = _pos;
        if (_text[_pos] is '+' or '-')
        {
            _pos++;
        }

        var digits = "0123456789_";
        if (_pos + 1 < _text.Length && _text[_pos] == '0' && _text[_pos + 1] is 'x' or 'X')
        {
            _pos += 2;
            digits = "0123456789abcdefABCDEF_";
        }
        else if (_pos + 1 < _text.Length && _text[_pos] == '0' && _text[_pos + 1] is 'o' or 'O' or 'b' or 'B')
        {
            _pos += 2;
        }

        while (_pos < _text.Length && digits.Contains(_text[_pos], StringComparison.Ordinal))
        {
            _pos++;
        }

        if (_pos < _text.Length && _text[_pos] == '.')
        {
            _pos++;
            while (_pos < _text.Length && digits.Contains(_text[_pos], StringComparison.Ordinal))
            {
                _pos++;
            }
        }

        if (_pos < _text.Length && _text[_pos] is 'e' or 'E' or 'p' or 'P' && digits.Length < 15)
        {
            _pos++;
            if (_pos < _text.Length && _text[_pos] is '+' or '-')
            {
                _pos++;
            }

            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
            {
                _pos++;
            }
        }

        if (_pos < _text.Length && IsAlphaNumeric(_text[_pos]))
        {
            throw Error("bad number syntax: " + GoQuote(_text[start..(_pos + 1)]), start);
        }
    }

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';

    private static bool IsAlphaNumeric(char c) => c == '_' || char.IsLetterOrDigit(c);

    private static string Describe(Token t) => t.Kind switch
    {
        TokenKind.End => "\"}}\"",
        TokenKind.RightParen => "\")\"",
        _ => "<" + t.Text + ">",
    };

    internal static string GoQuote(string s) => Text.GoString.Quote(s);

    private static string GoQuoteRune(char c) => "U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture) + " '" + c + "'";

    private TemplateParseException Error(string message, int pos)
    {
        var line = 1;
        for (var i = 0; i < pos && i < _text.Length; i++)
        {
            if (_text[i] == '\n')
            {
                line++;
            }
        }

        return new TemplateParseException("template: " + _name + ":" + line.ToString(CultureInfo.InvariantCulture) + ": " + message);
    }
}
