using System.Globalization;
using System.Text;

namespace LokiSharp.LogQL.Templates;

/// <summary>The map a template runs over: label names to values (missing names read as <c>""</c>).</summary>
public interface ITemplateData
{
    /// <summary>The value of <paramref name="name"/>, or null when absent.</summary>
    string? Get(string name);

    /// <summary>Every pair, for printing <c>{{.}}</c> and ranging over it.</summary>
    IEnumerable<KeyValuePair<string, string>> Pairs { get; }
}

/// <summary>A template execution error; the message is Go's (<c>template: line:1:2: executing "line" at &lt;...&gt;: ...</c>).</summary>
public sealed class TemplateExecutionException(string message) : Exception(message);

/// <summary>Per-execution values the Loki functions <c>__line__</c> and <c>__timestamp__</c> read.</summary>
public sealed class TemplateContext
{
    private Func<string>? _lineSource;
    private string? _line;

    /// <summary>The entry's timestamp in Unix nanoseconds.</summary>
    public long TimestampNs { get; set; }

    /// <summary>
    /// The most characters the output, and any value computed on the way, may hold (see <see cref="TemplateLimits"/>);
    /// callers set it per line from <see cref="TemplateLimits.OutputLimit"/>.
    /// </summary>
    public int OutputLimit { get; set; } = TemplateLimits.MinOutputLimit;

    /// <summary>Sets the line lazily: it is decoded only if a template calls <c>__line__</c>.</summary>
    public void SetLine(Func<string> lineSource)
    {
        _lineSource = lineSource;
        _line = null;
    }

    /// <summary>The current line.</summary>
    public string Line => _line ??= _lineSource?.Invoke() ?? string.Empty;

    /// <summary>What the functions of a caller's own table (<see cref="TemplateFunctionTable.With"/>) read per execution.</summary>
    public object? State { get; set; }
}

/// <summary>
/// A compiled Go <c>text/template</c> (with <c>missingkey=zero</c>) plus Loki's function set. Parse once, execute per
/// entry; not thread-safe while executing (the context is shared).
/// </summary>
public sealed class GoTemplate
{
    private readonly ListNode _root;
    private readonly string _name;
    private readonly string _text;

    private GoTemplate(string name, string text, ListNode root, TemplateFunctionTable functions)
    {
        _name = name;
        _text = text;
        _root = root;
        Functions = functions;
        SimpleField = root.Nodes is [ActionNode { Pipe: { Declarations.Count: 0, Commands: [{ Args: [FieldNode { Idents: [var field] }] }] } }] ? field : null;
        IsConstant = root.Nodes.TrueForAll(static n => n is TextNode);
        var parts = new List<(string, string?)>(root.Nodes.Count);
        foreach (var node in root.Nodes)
        {
            switch (node)
            {
                case TextNode t:
                    parts.Add((t.Text, null));
                    break;
                case ActionNode { Pipe: { Declarations.Count: 0, Commands: [{ Args: [FieldNode { Idents: [var label] }] }] } }:
                    parts.Add((string.Empty, label));
                    break;
                default:
                    parts = null;
                    break;
            }

            if (parts is null)
            {
                break;
            }
        }

        TextAndFields = parts?.ToArray();
    }

    /// <summary>
    /// When the template is only text and <c>{{.name}}</c> actions: the parts in order, each a text (field null) or
    /// a field whose value (empty when missing) is written. Lets callers skip the interpreter.
    /// </summary>
    internal (string Text, string? Field)[]? TextAndFields { get; }

    /// <summary>The label name when the template is exactly <c>{{.name}}</c> (lets callers copy the value directly).</summary>
    public string? SimpleField { get; }

    /// <summary>Whether the template is only text.</summary>
    public bool IsConstant { get; }

    /// <summary>
    /// How deep parenthesized pipelines and control blocks may nest (Go allows 10000 parentheses, its stacks grow);
    /// deeper templates fail to parse with Go's <c>max expression depth exceeded</c>.
    /// </summary>
    public const int MaxNestingDepth = 100;

    /// <summary>Parses a template; <paramref name="name"/> appears in error messages (<c>line</c>, <c>label</c>).</summary>
    /// <exception cref="TemplateParseException">The template does not parse or uses an unknown function.</exception>
    public static GoTemplate Parse(string name, string text) => Parse(name, text, TemplateFunctionTable.Loki);

    /// <summary>Parses a template that may call the functions of <paramref name="functions"/> (and no others).</summary>
    /// <exception cref="TemplateParseException">The template does not parse or uses an unknown function.</exception>
    public static GoTemplate Parse(string name, string text, TemplateFunctionTable functions) =>
        new(name, text, TemplateParser.Parse(name, text, functions.Contains), functions);

    /// <summary>Runs the template over <paramref name="data"/>, appending to <paramref name="output"/>.</summary>
    /// <exception cref="TemplateExecutionException">Execution failed; output may hold partial text.</exception>
    public void Execute(StringBuilder output, ITemplateData data, TemplateContext context)
    {
        var state = new TemplateExecution(this, output, data, context);
        state.Walk(data, _root);
    }

    /// <summary>
    /// Runs the template over a map of fields (Go's struct or <c>map[string]any</c> data: <c>.Labels.pod</c>,
    /// <c>.Value</c>); values are strings, longs, doubles, bools, <see cref="ITemplateData"/>, maps and lists.
    /// </summary>
    /// <exception cref="TemplateExecutionException">Execution failed; output may hold partial text.</exception>
    public void Execute(StringBuilder output, IDictionary<string, object?> data, TemplateContext context)
    {
        var state = new TemplateExecution(this, output, data, context);
        state.Walk(data, _root);
    }

    /// <summary>The functions the template may call.</summary>
    internal TemplateFunctionTable Functions { get; }

    internal string FormatLocation(int pos)
    {
        var text = _text.AsSpan(0, Math.Min(pos, _text.Length));
        var lastNewline = text.LastIndexOf('\n');
        var line = 1 + text.Count('\n');
        var column = lastNewline < 0 ? Encoding.UTF8.GetByteCount(text) : Encoding.UTF8.GetByteCount(text[(lastNewline + 1)..]);
        return _name + ":" + line.ToString(CultureInfo.InvariantCulture) + ":" + column.ToString(CultureInfo.InvariantCulture);
    }

    internal string Name => _name;
}

/// <summary>The state of one template execution.</summary>
internal sealed class TemplateExecution
{
    private readonly GoTemplate _template;
    private readonly StringBuilder _output;
    private readonly int _outputStart;
    private readonly TemplateContext _context;
    private readonly List<(string Name, object? Value)> _vars = [];
    private TemplateNode? _at;

    // Characters of computed values (and range iterations) so far, against the limit's multiple (TemplateLimits).
    private long _work;
    private readonly long _workLimit;

    private sealed class LoopControl(bool isBreak) : Exception
    {
        public bool IsBreak { get; } = isBreak;
    }

    public TemplateExecution(GoTemplate template, StringBuilder output, object data, TemplateContext context)
    {
        _template = template;
        _output = output;
        _outputStart = output.Length;
        _context = context;
        Limit = context.OutputLimit;
        _workLimit = (long)Limit * TemplateLimits.WorkFactor;
        _vars.Add(("$", data));
    }

    public TemplateContext Context => _context;

    /// <summary>The most characters a value or the output may hold.</summary>
    public int Limit { get; }

    private void Write(string text)
    {
        if (_output.Length - _outputStart + text.Length > Limit)
        {
            throw Error(TemplateLimits.TooLarge(Limit).Message);
        }

        _output.Append(text);
    }

    // Counts computed characters (or loop iterations) against the execution's budget.
    private void Charge(long amount)
    {
        _work += amount;
        if (_work > _workLimit)
        {
            throw Error("template execution budget exceeded: its values add up to more than " +
                        _workLimit.ToString(CultureInfo.InvariantCulture) + " characters");
        }
    }

    public void Walk(object? dot, TemplateNode node)
    {
        _at = node;
        switch (node)
        {
            case ListNode list:
                foreach (var n in list.Nodes)
                {
                    Walk(dot, n);
                }

                break;
            case TextNode text:
                Write(text.Text);
                break;
            case ActionNode action:
                {
                    var value = EvalPipeline(dot, action.Pipe);
                    if (action.Pipe.Declarations.Count == 0)
                    {
                        Write(TemplateValues.Print(value));
                    }

                    break;
                }

            case BranchNode { Kind: BranchKind.Range } range:
                WalkRange(dot, range);
                break;
            case BranchNode branch:
                {
                    var mark = _vars.Count;
                    var value = EvalPipeline(dot, branch.Pipe);
                    if (TemplateValues.IsTrue(value))
                    {
                        Walk(branch.Kind == BranchKind.With ? value : dot, branch.List);
                    }
                    else if (branch.Else is not null)
                    {
                        Walk(dot, branch.Else);
                    }

                    _vars.RemoveRange(mark, _vars.Count - mark);
                    break;
                }

            case LoopControlNode control:
                throw new LoopControl(control.IsBreak);
            default:
                throw Error("unknown node: " + node);
        }
    }

    private void WalkRange(object? dot, BranchNode range)
    {
        var mark = _vars.Count;
        var value = EvalPipeline(dot, range.Pipe);
        // The declared variables were pushed by EvalPipeline; the loop sets them per element.
        _vars.RemoveRange(mark, _vars.Count - mark);
        var items = new List<(object? Key, object? Value)>();
        switch (value)
        {
            case null:
                break;
            case IList<object?> list:
                for (var i = 0; i < list.Count; i++)
                {
                    items.Add(((long)i, list[i]));
                }

                break;
            case IDictionary<string, object?> map:
                foreach (var key in map.Keys.Order(StringComparer.Ordinal))
                {
                    items.Add((key, map[key]));
                }

                break;
            case ITemplateData data:
                foreach (var pair in data.Pairs.OrderBy(static p => p.Key, StringComparer.Ordinal))
                {
                    items.Add((pair.Key, pair.Value));
                }

                break;
            case long n:
                // Counted lazily: a list of n items would let {{range 1000000000}} allocate without bound.
                if (n <= 0)
                {
                    break;
                }

                for (var i = 0L; i < n; i++)
                {
                    if (!RangeStep(range, i, i, mark))
                    {
                        break;
                    }
                }

                return;
            default:
                throw Error("range can't iterate over " + TemplateValues.Print(value));
        }

        if (items.Count == 0)
        {
            if (range.Else is not null)
            {
                Walk(dot, range.Else);
            }

            return;
        }

        foreach (var (key, element) in items)
        {
            if (!RangeStep(range, key, element, mark))
            {
                break;
            }
        }
    }

    // One iteration of a range body; false after {{break}}.
    private bool RangeStep(BranchNode range, object? key, object? element, int mark)
    {
        Charge(1);
        var declarations = range.Pipe.Declarations;
        if (declarations.Count == 1)
        {
            _vars.Add((declarations[0], element));
        }
        else if (declarations.Count == 2)
        {
            _vars.Add((declarations[0], key));
            _vars.Add((declarations[1], element));
        }

        try
        {
            Walk(element, range.List);
        }
        catch (LoopControl control)
        {
            if (control.IsBreak)
            {
                _vars.RemoveRange(mark, _vars.Count - mark);
                return false;
            }
        }

        _vars.RemoveRange(mark, _vars.Count - mark);
        return true;
    }

    public object? EvalPipeline(object? dot, PipeNode pipe)
    {
        _at = pipe;
        object? value = Missing.Value;
        foreach (var cmd in pipe.Commands)
        {
            value = EvalCommand(dot, cmd, value);
        }

        foreach (var name in pipe.Declarations)
        {
            if (pipe.IsAssign)
            {
                SetVariable(name, value);
            }
            else
            {
                _vars.Add((name, value));
            }
        }

        return value;
    }

    private void SetVariable(string name, object? value)
    {
        for (var i = _vars.Count - 1; i >= 0; i--)
        {
            if (_vars[i].Name == name)
            {
                _vars[i] = (name, value);
                return;
            }
        }

        throw Error("undefined variable: " + name);
    }

    private object? GetVariable(string name)
    {
        for (var i = _vars.Count - 1; i >= 0; i--)
        {
            if (_vars[i].Name == name)
            {
                return _vars[i].Value;
            }
        }

        throw Error("undefined variable: " + name);
    }

    private object? EvalCommand(object? dot, CommandNode cmd, object? final)
    {
        var first = cmd.Args[0];
        switch (first)
        {
            case FieldNode field:
                return EvalFields(dot, field, field.Idents, dot, cmd, final);
            case ChainNode chain:
                {
                    var receiver = EvalArgValue(dot, chain.Node);
                    return EvalFields(dot, chain, chain.Fields, receiver, cmd, final);
                }

            case VariableNode variable:
                {
                    var value = GetVariable(variable.Idents[0]);
                    if (variable.Idents.Length == 1)
                    {
                        NotAFunction(cmd, final);
                        return value;
                    }

                    return EvalFields(dot, variable, variable.Idents[1..], value, cmd, final);
                }

            case IdentifierNode identifier:
                return EvalFunction(dot, identifier, cmd, final);
            case PipeNode pipe:
                NotAFunction(cmd, final);
                return EvalPipeline(dot, pipe);
        }

        _at = first;
        NotAFunction(cmd, final);
        return first switch
        {
            BoolNode b => b.Value,
            DotNode => dot,
            NilNode => throw Error("nil is not a command"),
            NumberNode n => NumberValue(n),
            StringNode s => s.Text,
            _ => throw Error("can't evaluate command " + GoQuote(first.ToString())),
        };
    }

    private void NotAFunction(CommandNode cmd, object? final)
    {
        if (cmd.Args.Count > 1 || final != Missing.Value)
        {
            _at = cmd.Args[0];
            throw Error("can't give argument to non-function " + cmd.Args[0]);
        }
    }

    private object? EvalFields(object? dot, TemplateNode node, string[] idents, object? receiver, CommandNode cmd, object? final)
    {
        _at = node;
        for (var i = 0; i < idents.Length; i++)
        {
            var last = i == idents.Length - 1;
            if (last && (cmd.Args.Count > 1 || final != Missing.Value))
            {
                throw Error(idents[i] + " has arguments but cannot be invoked as function");
            }

            receiver = EvalField(idents[i], receiver);
        }

        return receiver;
    }

    private object? EvalField(string name, object? receiver) => receiver switch
    {
        ITemplateData data => data.Get(name) ?? string.Empty,
        IDictionary<string, object?> map => map.TryGetValue(name, out var v) ? v : null,
        null => throw Error("nil pointer evaluating interface {}." + name),
        _ => throw Error("can't evaluate field " + name + " in type " + TemplateValues.TypeName(receiver)),
    };

    private object? EvalFunction(object? dot, IdentifierNode node, CommandNode cmd, object? final)
    {
        _at = node;
        var name = node.Name;
        var argNodes = cmd.Args.Count - 1;
        var argCount = argNodes + (final != Missing.Value ? 1 : 0);
        if (name is "and" or "or")
        {
            if (argCount < 1)
            {
                throw Error("wrong number of args for " + name + ": want at least 1 got 0");
            }

            // Short-circuit: stop at the first falsy (and) or truthy (or) argument.
            object? value = null;
            for (var i = 1; i < cmd.Args.Count; i++)
            {
                value = EvalArgValue(dot, cmd.Args[i]);
                if (TemplateValues.IsTrue(value) != (name == "and"))
                {
                    return value;
                }
            }

            return final != Missing.Value ? final : value;
        }

        var function = _template.Functions.Get(name);
        if (function.MinArgs == function.MaxArgs && argCount != function.MinArgs)
        {
            throw Error("wrong number of args for " + name + ": want " + function.MinArgs.ToString(CultureInfo.InvariantCulture) +
                        " got " + argCount.ToString(CultureInfo.InvariantCulture));
        }

        if (argCount < function.MinArgs || argCount > function.MaxArgs)
        {
            throw Error("wrong number of args for " + name + ": want at least " + function.MinArgs.ToString(CultureInfo.InvariantCulture) +
                        " got " + argCount.ToString(CultureInfo.InvariantCulture));
        }

        var args = new object?[argCount];
        for (var i = 0; i < argNodes; i++)
        {
            var argNode = cmd.Args[i + 1];
            var kind = function.ParameterKind(i);
            args[i] = argNode is NumberNode or StringNode or BoolNode ? ConvertLiteral(argNode, kind) : Convert(EvalArgValue(dot, argNode), kind, argNode);
        }

        if (final != Missing.Value)
        {
            args[^1] = Convert(final, function.ParameterKind(argCount - 1), node);
        }

        try
        {
            var result = function.Invoke(this, args);
            if (result is string text)
            {
                // Every computed string is bounded and counted: the functions check what their arguments control
                // before allocating, this catches the rest (and values piled up in variables). A string that is
                // already there (an argument handed back, the line) costs nothing new.
                TemplateLimits.Ensure(text.Length, Limit);
                if (name != "__line__" && !IsArgument(text, args))
                {
                    Charge(text.Length);
                }
            }

            return result;
        }
        catch (TemplateFunctionException e)
        {
            _at = cmd;
            throw Error("error calling " + name + ": " + e.Message);
        }
        catch (TemplateExecutionException)
        {
            throw;
        }
        catch (Exception e) when (e is ArithmeticException or ArgumentException or FormatException or OverflowException or InvalidOperationException)
        {
            _at = cmd;
            throw Error("error calling " + name + ": " + e.Message);
        }
    }

    private static bool IsArgument(string value, object?[] args)
    {
        foreach (var arg in args)
        {
            if (ReferenceEquals(arg, value))
            {
                return true;
            }
        }

        return false;
    }

    // Go converts literal arguments by the parameter's kind (text/template's evalBool/evalString/evalInteger...).
    private object? ConvertLiteral(TemplateNode node, ParameterKind kind)
    {
        _at = node;
        switch (kind, node)
        {
            case (ParameterKind.Any, _):
                return node switch { NumberNode n => NumberValue(n), StringNode s => s.Text, _ => ((BoolNode)node).Value };
            case (ParameterKind.String, StringNode s):
                return s.Text;
            case (ParameterKind.Int, NumberNode { Integer: { } i }):
                return i;
            case (ParameterKind.Float, NumberNode { Float: { } f }):
                return f;
            case (ParameterKind.Bool, BoolNode b):
                return b.Value;
            case (ParameterKind.Time, _):
                throw Error("can't handle " + node + " for arg of type time.Time");
            default:
                throw Error("expected " + kind switch { ParameterKind.Int => "integer", ParameterKind.Float => "float", _ => TemplateValues.KindName(kind) } +
                            "; found " + node);
        }
    }

    // An untyped constant becomes an int unless its text says float (".", exponent), as Go's idealConstant decides.
    private static object? NumberValue(NumberNode n) =>
        n.Integer is { } i && !(n.Text.AsSpan().IndexOfAny(".eEpP") >= 0 && !n.Text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            ? (object)i
            : n.Float;

    private object? Convert(object? value, ParameterKind kind, TemplateNode node)
    {
        var ok = kind switch
        {
            ParameterKind.Any => true,
            ParameterKind.String => value is string,
            ParameterKind.Int => value is long,
            ParameterKind.Float => value is double,
            ParameterKind.Bool => value is bool,
            ParameterKind.Time => value is GoTime,
            _ => false,
        };
        if (!ok)
        {
            _at = node;
            if (value is null)
            {
                throw Error("invalid value; expected " + TemplateValues.KindName(kind));
            }

            throw Error("wrong type for value; expected " + TemplateValues.KindName(kind) + "; got " + TemplateValues.TypeName(value));
        }

        return value;
    }

    private object? EvalArgValue(object? dot, TemplateNode node)
    {
        _at = node;
        switch (node)
        {
            case DotNode:
                return dot;
            case NilNode:
                return null;
            case FieldNode field:
                return EvalFields(dot, field, field.Idents, dot, new CommandNode(node.Pos) { Args = { node } }, Missing.Value);
            case VariableNode variable:
                {
                    var value = GetVariable(variable.Idents[0]);
                    for (var k = 1; k < variable.Idents.Length; k++)
                    {
                        value = EvalField(variable.Idents[k], value);
                    }

                    return value;
                }

            case PipeNode pipe:
                return EvalPipeline(dot, pipe);
            case IdentifierNode identifier:
                return EvalFunction(dot, identifier, new CommandNode(node.Pos) { Args = { node } }, Missing.Value);
            case ChainNode chain:
                {
                    var value = EvalArgValue(dot, chain.Node);
                    foreach (var f in chain.Fields)
                    {
                        value = EvalField(f, value);
                    }

                    return value;
                }

            case BoolNode b:
                return b.Value;
            case NumberNode n:
                return NumberValue(n);
            case StringNode s:
                return s.Text;
            default:
                throw Error("can't handle " + node + " for arg");
        }
    }

    public TemplateExecutionException Error(string message)
    {
        var location = _at is null ? _template.Name : _template.FormatLocation(_at.Pos);
        var context = _at?.ToString() ?? string.Empty;
        if (context.Length > 20)
        {
            context = context[..20] + "...";
        }

        return new TemplateExecutionException("template: " + location + ": executing " + GoQuote(_template.Name) + " at <" + context + ">: " + message);
    }

    private static string GoQuote(string s) => Text.GoString.Quote(s);

    /// <summary>Marks "no value piped in" (distinct from a nil value).</summary>
    private sealed class Missing
    {
        public static readonly object Value = new Missing();
    }
}
