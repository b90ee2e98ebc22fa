namespace LokiSharp.LogQL.Templates;

/// <summary>
/// The functions a template may call: Loki's <c>line_format</c> set, Go's built-ins alone, or a caller's own set
/// built on them (the ruler's Prometheus functions), so one engine serves every Go template dialect.
/// </summary>
public sealed class TemplateFunctionTable
{
    // text/template's own functions; every table starts from them.
    private static readonly string[] GoBuiltinNames =
    [
        "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "len", "index", "slice", "print", "println", "printf", "html",
        "js", "urlquery", "call",
    ];

    private readonly Dictionary<string, TemplateFunction> _functions;

    private TemplateFunctionTable(Dictionary<string, TemplateFunction> functions) => _functions = functions;

    /// <summary>Loki's functions for <c>line_format</c> and <c>label_format</c>.</summary>
    public static TemplateFunctionTable Loki { get; } = new(new Dictionary<string, TemplateFunction>(TemplateFunctions.All, StringComparer.Ordinal));

    /// <summary>Go's <c>text/template</c> built-ins only (<c>and</c>, <c>eq</c>, <c>printf</c>, <c>index</c>...).</summary>
    public static TemplateFunctionTable GoBuiltins { get; } =
        new(GoBuiltinNames.ToDictionary(static n => n, static n => TemplateFunctions.All[n], StringComparer.Ordinal));

    /// <summary>Every function name.</summary>
    public IEnumerable<string> Names => _functions.Keys;

    /// <summary>Whether a function of that name exists (what the template parser accepts).</summary>
    public bool Contains(string name) => _functions.ContainsKey(name);

    internal TemplateFunction Get(string name) => _functions[name];

    /// <summary>
    /// A copy of this table plus (or with a replaced) function <paramref name="name"/>. Arguments are converted to
    /// <paramref name="kinds"/> as Go converts to a function's parameter types (the last kind repeats for variadic
    /// functions); the body reads per-execution values from the context and reports failures by throwing
    /// <see cref="TemplateFunctionException"/> (Go's <c>error calling NAME: ...</c>).
    /// </summary>
    public TemplateFunctionTable With(
        string name, int minArgs, int maxArgs, ParameterKind[] kinds, Func<TemplateContext, object?[], object?> body) =>
        Add(name, new TemplateFunction(minArgs, maxArgs, kinds, (e, a) => body(e.Context, a)));

    /// <summary>
    /// A copy of this table plus function <paramref name="name"/>, which calls <paramref name="sourceName"/> of
    /// <paramref name="source"/> with its arguments in <paramref name="argumentOrder"/> (the source's argument
    /// <c>j</c> is the new function's argument <c>argumentOrder[j]</c>; empty keeps the order).
    /// </summary>
    public TemplateFunctionTable WithCopy(string name, TemplateFunctionTable source, string sourceName, params int[] argumentOrder)
    {
        var function = source.Get(sourceName);
        if (argumentOrder.Length == 0)
        {
            return Add(name, function);
        }

        var kinds = new ParameterKind[argumentOrder.Length];
        for (var j = 0; j < argumentOrder.Length; j++)
        {
            kinds[argumentOrder[j]] = function.ParameterKind(j);
        }

        return Add(name, new TemplateFunction(function.MinArgs, function.MaxArgs, kinds, (e, a) =>
        {
            var reordered = new object?[a.Length];
            for (var j = 0; j < argumentOrder.Length; j++)
            {
                reordered[j] = a[argumentOrder[j]];
            }

            return function.Invoke(e, reordered);
        }));
    }

    private TemplateFunctionTable Add(string name, TemplateFunction function) =>
        new(new Dictionary<string, TemplateFunction>(_functions, StringComparer.Ordinal) { [name] = function });
}
