using System.Globalization;
using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Templates;

/// <summary>The parameter types template functions declare (Go's reflect kinds that Loki's functions use).</summary>
public enum ParameterKind
{
    Any,
    String,
    Int,
    Float,
    Bool,
    Time,
}

/// <summary>
/// Go semantics for template values: strings, <c>int</c> (long), <c>float64</c> (double), bools, <see cref="GoTime"/>,
/// maps, slices and nil – printing (<c>fmt.Sprint</c>), truthiness and comparison.
/// </summary>
internal static class TemplateValues
{
    public static string Print(object? value) => value switch
    {
        null => "<no value>",
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => GoFloat.FormatV(d),
        bool b => b ? "true" : "false",
        GoTime t => t.ToString(),
        ITemplateData data => PrintMap(data.Pairs.Select(static p => new KeyValuePair<string, object?>(p.Key, p.Value))),
        IDictionary<string, object?> map => PrintMap(map),
        IList<object?> list => "[" + string.Join(' ', list.Select(PrintNested)) + "]",
        _ => value.ToString() ?? string.Empty,
    };

    private static string PrintNested(object? value) => value is null ? "<nil>" : Print(value);

    private static string PrintMap(IEnumerable<KeyValuePair<string, object?>> pairs)
    {
        var sb = new StringBuilder("map[");
        var first = true;
        foreach (var pair in pairs.OrderBy(static p => p.Key, StringComparer.Ordinal))
        {
            if (!first)
            {
                sb.Append(' ');
            }

            first = false;
            sb.Append(pair.Key).Append(':').Append(PrintNested(pair.Value));
        }

        return sb.Append(']').ToString();
    }

    /// <summary>Go template truth: zero values and empty collections are false; structs (times) are true.</summary>
    public static bool IsTrue(object? value) => value switch
    {
        null => false,
        string s => s.Length > 0,
        long l => l != 0,
        double d => d != 0,
        bool b => b,
        ITemplateData data => data.Pairs.Any(),
        IDictionary<string, object?> map => map.Count > 0,
        IList<object?> list => list.Count > 0,
        _ => true,
    };

    /// <summary>Go's name of a value's type, for error messages.</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "<nil>",
        string => "string",
        long => "int",
        double => "float64",
        bool => "bool",
        GoTime => "time.Time",
        ITemplateData => "map[string]string",
        IDictionary<string, object?> => "map[string]interface {}",
        IList<object?> => "[]interface {}",
        _ => value.GetType().Name,
    };

    public static string KindName(ParameterKind kind) => kind switch
    {
        ParameterKind.String => "string",
        ParameterKind.Int => "int",
        ParameterKind.Float => "float64",
        ParameterKind.Bool => "bool",
        ParameterKind.Time => "time.Time",
        _ => "interface {}",
    };

    /// <summary>Go's <c>eq</c>/<c>lt</c> comparison of two basic values; throws with Go's text for incompatible types.</summary>
    public static int Compare(object? a, object? b, bool orderingRequired)
    {
        switch (a, b)
        {
            case (long x, long y):
                return x.CompareTo(y);
            case (double x, double y):
                return x < y ? -1 : x > y ? 1 : x == y ? 0 : 2;
            case (string x, string y):
                return string.CompareOrdinal(x, y) switch { < 0 => -1, > 0 => 1, _ => 0 };
            case (bool x, bool y):
                if (orderingRequired)
                {
                    throw new TemplateFunctionException("invalid type for comparison");
                }

                return x == y ? 0 : 1;
            case (null, null):
                if (orderingRequired)
                {
                    throw new TemplateFunctionException("invalid type for comparison");
                }

                return 0;
            case (null, _) or (_, null):
                if (orderingRequired)
                {
                    throw new TemplateFunctionException("invalid type for comparison");
                }

                throw new TemplateFunctionException("incompatible types for comparison");
            default:
                if (a!.GetType() == b!.GetType() && a is GoTime && !orderingRequired)
                {
                    return a.Equals(b) ? 0 : 1;
                }

                if (a.GetType() != b.GetType())
                {
                    throw new TemplateFunctionException("incompatible types for comparison");
                }

                throw new TemplateFunctionException(orderingRequired ? "invalid type for comparison" : "non-comparable type " + Print(a) + ": " + TypeName(a));
        }
    }

    /// <summary>sprig/cast's conversion to int64: numbers truncate, numeric strings parse (decimals truncated), else 0.</summary>
    public static long ToInt64(object? value) => value switch
    {
        long l => l,
        double d => double.IsNaN(d) ? 0 : (long)Math.Truncate(d),
        bool b => b ? 1 : 0,
        string s => ParseInt64(s),
        GoTime t => t.UnixSeconds,
        _ => 0,
    };

    private static long ParseInt64(string s)
    {
        s = s.Trim();
        if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return l;
        }

        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) &&
            long.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
        {
            return hex;
        }

        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && !double.IsNaN(d) && !double.IsInfinity(d)
            ? (long)Math.Truncate(d)
            : 0;
    }

    /// <summary>sprig/cast's conversion to float64: numeric strings parse, else 0.</summary>
    public static double ToFloat64(object? value) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        string s => GoFloat.TryParse(s.Trim(), out var d, out _) ? d : 0,
        _ => 0,
    };

    /// <summary>sprig's <c>empty</c>: nil, zero numbers, false, empty strings and collections.</summary>
    public static bool IsEmpty(object? value) => value switch
    {
        null => true,
        string s => s.Length == 0,
        long l => l == 0,
        double d => d == 0,
        bool b => !b,
        ITemplateData data => !data.Pairs.Any(),
        IDictionary<string, object?> map => map.Count == 0,
        IList<object?> list => list.Count == 0,
        GoTime t => t.IsZero,
        _ => false,
    };
}

/// <summary>An error returned by a template function; reported as <c>error calling NAME: MESSAGE</c>.</summary>
public sealed class TemplateFunctionException(string message) : Exception(message);
