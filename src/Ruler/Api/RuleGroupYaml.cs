using System.Text;
using System.Text.RegularExpressions;
using LokiSharp.Ruler.Rules;

namespace LokiSharp.Ruler.Api;

/// <summary>
/// Rule groups as YAML in the form Loki's rules API answers (<c>yaml.v3</c> marshalling Prometheus' <c>rulefmt</c> types):
/// four-space indentation, fields in <c>rulefmt</c> order, empty fields left out, label and annotation maps sorted by key,
/// strings plain where YAML allows, else single-quoted (double-quoted when plain would read as another type),
/// multi-line strings as literal blocks. Also the form the API writes rule files in.
/// </summary>
public static partial class RuleGroupYaml
{
    private const int Indent = 4;

    /// <summary>One group (<c>GET /loki/api/v1/rules/{namespace}/{groupName}</c>).</summary>
    public static string Group(RuleGroup group)
    {
        var sb = new StringBuilder();
        AppendGroup(sb, group, 0, first: null);
        return sb.ToString();
    }

    /// <summary>Namespaces to their groups (<c>GET /loki/api/v1/rules[/{namespace}]</c>).</summary>
    public static string Namespaces(IEnumerable<KeyValuePair<string, IReadOnlyList<RuleGroup>>> namespaces)
    {
        var sb = new StringBuilder();
        foreach (var (ns, groups) in namespaces)
        {
            sb.Append(Scalar(ns)).Append(':');
            AppendGroups(sb, groups, Indent);
        }

        return sb.ToString();
    }

    /// <summary>A rule file: <c>groups:</c> and the list.</summary>
    public static string File(IReadOnlyList<RuleGroup> groups)
    {
        var sb = new StringBuilder("groups:");
        AppendGroups(sb, groups, Indent);
        return sb.ToString();
    }

    private static void AppendGroups(StringBuilder sb, IReadOnlyList<RuleGroup> groups, int indent)
    {
        if (groups.Count == 0)
        {
            sb.Append(" []\n");
            return;
        }

        sb.Append('\n');
        foreach (var group in groups)
        {
            AppendGroup(sb, group, indent + 2, first: indent);
        }
    }

    // A mapping at column `indent`; when it is a sequence item, its first line starts with "- " at column `first`.
    private static void AppendGroup(StringBuilder sb, RuleGroup group, int indent, int? first)
    {
        var lines = new Lines(sb, indent, first);
        lines.Key("name").Append(' ').Append(Scalar(group.Name)).Append('\n');
        if (group.Interval is { Nanoseconds: not 0 } interval)
        {
            lines.Key("interval").Append(' ').Append(interval.ToPrometheusString()).Append('\n');
        }

        if (group.QueryOffset is { } offset)
        {
            lines.Key("query_offset").Append(' ').Append(offset.ToPrometheusString()).Append('\n');
        }

        if (group.Limit != 0)
        {
            lines.Key("limit").Append(' ').Append(group.Limit).Append('\n');
        }

        lines.Key("rules");
        if (group.Rules.Count == 0)
        {
            sb.Append(" []\n");
        }
        else
        {
            sb.Append('\n');
            foreach (var rule in group.Rules)
            {
                AppendRule(sb, rule, indent + Indent + 2, indent + Indent);
            }
        }

        AppendMap(lines, "labels", group.Labels, indent);
    }

    private static void AppendRule(StringBuilder sb, RuleDefinition rule, int indent, int first)
    {
        var lines = new Lines(sb, indent, first);
        lines.Key(rule.Kind == RuleKind.Recording ? "record" : "alert").Append(' ').Append(Scalar(rule.Name)).Append('\n');
        lines.Key("expr");
        AppendValue(sb, rule.Expr, indent);
        if (rule.For.Nanoseconds != 0)
        {
            lines.Key("for").Append(' ').Append(rule.For.ToPrometheusString()).Append('\n');
        }

        if (rule.KeepFiringFor.Nanoseconds != 0)
        {
            lines.Key("keep_firing_for").Append(' ').Append(rule.KeepFiringFor.ToPrometheusString()).Append('\n');
        }

        AppendMap(lines, "labels", rule.Labels, indent);
        AppendMap(lines, "annotations", rule.Annotations, indent);
    }

    private static void AppendMap(Lines lines, string key, IReadOnlyList<KeyValuePair<string, string>> map, int indent)
    {
        if (map.Count == 0)
        {
            return;
        }

        var sb = lines.Key(key).Append('\n');
        var sorted = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in map)
        {
            sorted[name] = value;
        }

        foreach (var (name, value) in sorted)
        {
            sb.Append(' ', indent + Indent).Append(Scalar(name)).Append(':');
            AppendValue(sb, value, indent + Indent);
        }
    }

    // A value after "key:": on the same line, or a literal block indented under the key.
    private static void AppendValue(StringBuilder sb, string value, int keyIndent)
    {
        if (value.Contains('\n', StringComparison.Ordinal) && !NeedsDoubleQuotes(value.Replace("\n", "", StringComparison.Ordinal)))
        {
            var chomp = value.EndsWith("\n", StringComparison.Ordinal) ? (value.EndsWith("\n\n", StringComparison.Ordinal) ? "+" : "") : "-";
            var indicator = value.StartsWith(' ') ? Indent.ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
            sb.Append(" |").Append(indicator).Append(chomp).Append('\n');
            var body = chomp == "-" ? value : value[..^1];
            foreach (var line in body.Split('\n'))
            {
                if (line.Length > 0)
                {
                    sb.Append(' ', keyIndent + Indent).Append(line);
                }

                sb.Append('\n');
            }

            return;
        }

        sb.Append(' ').Append(Scalar(value)).Append('\n');
    }

    /// <summary>A string as a one-line YAML scalar.</summary>
    public static string Scalar(string value)
    {
        if (value.Length == 0 || NeedsDoubleQuotes(value) || ResolvesToOtherType(value))
        {
            return DoubleQuoted(value);
        }

        return PlainAllowed(value) ? value : "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    private static bool NeedsDoubleQuotes(string value)
    {
        foreach (var c in value)
        {
            if ((c < ' ' && c != '\t') || c == '\u007f' || c is '\u0085' or '\u2028' or '\u2029' or '\ufeff')
            {
                return true;
            }
        }

        return false;
    }

    private static bool ResolvesToOtherType(string value) => OtherType().IsMatch(value);

    private static bool PlainAllowed(string value)
    {
        if (value[0] is ' ' or '\t' || value[^1] is ' ' or '\t' || value[^1] == ':')
        {
            return false;
        }

        if ("#,[]{}&*!|>'\"%@`".Contains(value[0], StringComparison.Ordinal))
        {
            return false;
        }

        if (value[0] is '-' or '?' or ':' && (value.Length == 1 || value[1] is ' ' or '\t'))
        {
            return false;
        }

        if (value.StartsWith("---", StringComparison.Ordinal) || value.StartsWith("...", StringComparison.Ordinal))
        {
            return false;
        }

        return !value.Contains(": ", StringComparison.Ordinal) && !value.Contains(" #", StringComparison.Ordinal) &&
            !value.Contains(":\t", StringComparison.Ordinal) && !value.Contains("\t#", StringComparison.Ordinal);
    }

    private static string DoubleQuoted(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                case < ' ' or '\u007f': sb.Append("\\x").Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture)); break;
                default: sb.Append(c); break;
            }
        }

        return sb.Append('"').ToString();
    }

    // What YAML 1.1/1.2 resolvers (and yaml.v3's compatibility rules) would read as a bool, null or number.
    [GeneratedRegex(@"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF" +
        @"|[-+]?(?:0|[1-9][0-9_]*)|0[xX][0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+|[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?" +
        @"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$")]
    private static partial Regex OtherType();

    // Writes mapping keys at a column, the first one after the sequence dash when the mapping is a list item.
    private sealed class Lines(StringBuilder sb, int indent, int? first)
    {
        private bool _started;

        public StringBuilder Key(string key)
        {
            if (!_started && first is { } dash)
            {
                sb.Append(' ', dash).Append("- ");
            }
            else
            {
                sb.Append(' ', indent);
            }

            _started = true;
            return sb.Append(key).Append(':');
        }
    }
}
