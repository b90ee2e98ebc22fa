using System.Globalization;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Syntax;
using LokiSharp.Ruler.Templates;

namespace LokiSharp.Ruler.Rules;

/// <summary>
/// Loki's rule checks with its texts (<c>pkg/ruler/compat.go</c>: <c>ValidateGroups</c>, <c>validateRule</c>,
/// <c>testTemplateParsing</c>). Like Loki, a rule reports only its first problem.
/// </summary>
internal static class RuleValidator
{
    public static string EmptyGroupName(int index) => "group " + index.ToString(CultureInfo.InvariantCulture) + ": Groupname must not be empty";

    public static string RepeatedGroupName(string name) => "groupname: \"" + name + "\" is repeated in the same file";

    /// <summary>The valid rule, or null and Loki's error text.</summary>
    public static (RuleDefinition? Rule, string? Error) Validate(RawRule r, string group)
    {
        if (r.Record.Length > 0 && r.Alert.Length > 0)
        {
            return (null, "only one of 'record' and 'alert' must be set");
        }

        if (r.Record.Length == 0 && r.Alert.Length == 0)
        {
            return (null, "one of 'record' or 'alert' must be set");
        }

        if (r.Expr.Length == 0)
        {
            return (null, "field 'expr' must be set in rule");
        }

        var kind = r.Alert.Length > 0 ? RuleKind.Alerting : RuleKind.Recording;
        var name = kind == RuleKind.Alerting ? r.Alert : r.Record;
        var context = "could not parse expression for " + (kind == RuleKind.Alerting ? "alert" : "record") + " '" + name +
                      "' in group '" + group + "': ";
        SampleExpr query;
        try
        {
            // Loki parses any LogQL here and fails each evaluation of a log query with "rule result is not a vector
            // or scalar"; we refuse it up front with the text of Loki's ParseSampleExpr.
            query = LogQLParser.Parse(r.Expr) as SampleExpr ?? throw new InvalidOperationException();
        }
        catch (LogQLParseException e)
        {
            return (null, context + e.Message);
        }
        catch (InvalidOperationException)
        {
            return (null, context + "only sample expression supported");
        }

        if (kind == RuleKind.Recording)
        {
            if (r.Annotations.Count > 0)
            {
                return (null, "invalid field 'annotations' in recording rule");
            }

            if (r.For.Nanoseconds != 0)
            {
                return (null, "invalid field 'for' in recording rule");
            }

            if (!IsMetricName(r.Record))
            {
                return (null, "invalid recording rule name: " + r.Record);
            }
        }

        foreach (var (label, value) in r.Labels)
        {
            if (!IsLabelName(label) || label == "__name__")
            {
                return (null, "invalid label name: " + label);
            }

            if (!IsValidUtf16(value))
            {
                return (null, "invalid label value: " + value);
            }
        }

        foreach (var (annotation, _) in r.Annotations)
        {
            if (!IsLabelName(annotation))
            {
                return (null, "invalid annotation name: " + annotation);
            }
        }

        if (kind == RuleKind.Alerting)
        {
            foreach (var (label, value) in r.Labels)
            {
                if (AlertTemplate.ValidationError(r.Alert, value) is { } error)
                {
                    return (null, "label \"" + label + "\": " + error);
                }
            }

            foreach (var (annotation, value) in r.Annotations)
            {
                if (AlertTemplate.ValidationError(r.Alert, value) is { } error)
                {
                    return (null, "annotation \"" + annotation + "\": " + error);
                }
            }
        }

        return (new RuleDefinition(kind, name, r.Expr, query, r.For, r.KeepFiringFor, r.Labels, r.Annotations), null);
    }

    /// <summary>Prometheus' legacy label name: <c>[a-zA-Z_][a-zA-Z0-9_]*</c>.</summary>
    public static bool IsLabelName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Prometheus' legacy metric name: <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>.</summary>
    public static bool IsMetricName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && c != ':')
            {
                return false;
            }
        }

        return true;
    }

    // Go's utf8.ValidString: a lone surrogate (from a YAML "\ud800" escape) is not encodable.
    private static bool IsValidUtf16(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }

        return true;
    }
}
