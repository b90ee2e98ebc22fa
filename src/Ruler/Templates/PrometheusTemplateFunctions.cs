using System.Globalization;
using System.Net;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Templates;
using LokiSharp.LogQL.Text;

namespace LokiSharp.Ruler.Templates;

/// <summary>
/// Prometheus' template functions for alert labels and annotations (<c>template.NewTemplateExpander</c>'s FuncMap)
/// on top of Go's built-ins, with Prometheus' number formats (<c>humanize</c> and friends print <c>%.4g</c>).
/// Functions that Loki's line templates also have are taken from that table (<c>title</c>, <c>reReplaceAll</c>).
/// </summary>
public static class PrometheusTemplateFunctions
{
    private const ParameterKind A = ParameterKind.Any;
    private const ParameterKind S = ParameterKind.String;

    private static readonly string[] SiLarge = ["k", "M", "G", "T", "P", "E", "Z", "Y"];
    private static readonly string[] SiSmall = ["m", "u", "n", "p", "f", "a", "z", "y"];
    private static readonly string[] Binary = ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"];

    /// <summary>The table alert templates are parsed with.</summary>
    public static TemplateFunctionTable Table { get; } = TemplateFunctionTable.GoBuiltins
        .With("query", 1, 1, [S], static (c, a) => Query(c, (string)a[0]!))
        .With("first", 1, 1, [A], static (_, a) => First(a[0]))
        .With("label", 2, 2, [S, A], static (_, a) => SampleLabels(a[1]).Get((string)a[0]!) ?? string.Empty)
        .With("value", 1, 1, [A], static (_, a) => SampleField(a[0], "Value"))
        .With("strvalue", 1, 1, [A], static (_, a) => SampleLabels(a[0]).Get("__value__") ?? string.Empty)
        .With("args", 0, int.MaxValue, [A], static (_, a) => Args(a))
        .WithCopy("reReplaceAll", TemplateFunctionTable.Loki, "regexReplaceAll", 0, 2, 1)
        .With("safeHtml", 1, 1, [S], static (_, a) => a[0])
        .With("match", 2, 2, [S, S], static (_, a) => Match((string)a[0]!, (string)a[1]!))
        .WithCopy("title", TemplateFunctionTable.Loki, "title")
        .WithCopy("toUpper", TemplateFunctionTable.Loki, "ToUpper")
        .WithCopy("toLower", TemplateFunctionTable.Loki, "ToLower")
        .With("graphLink", 1, 1, [S], static (_, a) => "/graph?g0.expr=" + QueryEscape((string)a[0]!) + "&g0.tab=0")
        .With("tableLink", 1, 1, [S], static (_, a) => "/graph?g0.expr=" + QueryEscape((string)a[0]!) + "&g0.tab=1")
        .With("sortByLabel", 2, 2, [S, A], static (_, a) => SortByLabel((string)a[0]!, a[1]))
        .With("stripPort", 1, 1, [S], static (_, a) => StripPort((string)a[0]!))
        .With("stripDomain", 1, 1, [S], static (_, a) => StripDomain((string)a[0]!))
        .With("humanize", 1, 1, [A], static (_, a) => Humanize(ToFloat(a[0])))
        .With("humanize1024", 1, 1, [A], static (_, a) => Humanize1024(ToFloat(a[0])))
        .With("humanizeDuration", 1, 1, [A], static (_, a) => HumanizeDuration(ToFloat(a[0])))
        .With("humanizePercentage", 1, 1, [A], static (_, a) => G4(ToFloat(a[0]) * 100) + "%")
        .With("humanizeTimestamp", 1, 1, [A], static (_, a) => HumanizeTimestamp(ToFloat(a[0])))
        .With("toTime", 1, 1, [A], static (_, a) => ToTime(ToFloat(a[0])))
        .With("toDuration", 1, 1, [A], static (_, a) => new GoDuration((long)(ToFloat(a[0]) * 1e9)))
        .With("now", 0, 0, [], static (c, _) => Math.Floor(c.TimestampNs / 1e6) / 1000.0)
        .With("pathPrefix", 0, 0, [], static (c, _) => ExternalUri(c)?.AbsolutePath.TrimEnd('/') ?? string.Empty)
        .With("externalURL", 0, 0, [], static (c, _) => Data(c)?.ExternalUrl ?? string.Empty)
        .With("parseDuration", 1, 1, [S], static (_, a) => ParseDuration((string)a[0]!))
        .With("urlQueryEscape", 1, 1, [S], static (_, a) => QueryEscape((string)a[0]!));

    private static AlertTemplateData? Data(TemplateContext context) => context.State as AlertTemplateData;

    private static Uri? ExternalUri(TemplateContext context) =>
        Uri.TryCreate(Data(context)?.ExternalUrl, UriKind.Absolute, out var uri) ? uri : null;

    // A query result is a list of samples, each a map with Labels and Value (Prometheus' queryResult of *sample).
    private static List<object?> Query(TemplateContext context, string query)
    {
        var data = Data(context);
        if (data?.Query is null)
        {
            throw new TemplateFunctionException("query is not available here");
        }

        var result = new List<object?>();
        foreach (var sample in data.Query(query, data.Time))
        {
            result.Add(new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["Labels"] = new LabelSetTemplateData(sample.Labels),
                ["Value"] = sample.Value,
            });
        }

        return result;
    }

    private static object? First(object? value) => value is IList<object?> list
        ? list.Count > 0 ? list[0] : throw new TemplateFunctionException("first() called on vector with no elements")
        : throw new TemplateFunctionException("first() called on a value that is not a query result");

    private static object? SampleField(object? sample, string field) =>
        sample is IDictionary<string, object?> map && map.TryGetValue(field, out var value)
            ? value
            : throw new TemplateFunctionException("invalid memory address or nil pointer dereference");

    private static LabelSetTemplateData SampleLabels(object? sample) =>
        SampleField(sample, "Labels") as LabelSetTemplateData ?? new LabelSetTemplateData(LabelSet.Empty);

    private static Dictionary<string, object?> Args(object?[] args)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            result["arg" + i.ToString(CultureInfo.InvariantCulture)] = args[i];
        }

        return result;
    }

    private static bool Match(string pattern, string text) =>
        (Re2Regex.TryCompile(pattern, anchored: false, out var error) ?? throw new TemplateFunctionException(error!)).IsMatch(text);

    private static List<object?> SortByLabel(string label, object? value)
    {
        if (value is not IList<object?> list)
        {
            throw new TemplateFunctionException("sortByLabel needs a query result");
        }

        // Stable, as Go's sort.Stable.
        return [.. list.OrderBy(s => SampleLabels(s).Get(label) ?? string.Empty, StringComparer.Ordinal)];
    }

    // Go's url.QueryEscape: unreserved characters stay, a space becomes '+', everything else %XX.
    private static string QueryEscape(string s) => Uri.EscapeDataString(s).Replace("%20", "+", StringComparison.Ordinal);

    private static string StripPort(string hostPort) => SplitHostPort(hostPort) is var (host, _) ? host : hostPort;

    private static string StripDomain(string hostPort)
    {
        var split = SplitHostPort(hostPort);
        var host = split?.Host ?? hostPort;
        if (IPAddress.TryParse(host, out _))
        {
            return hostPort;
        }

        host = host.Split('.')[0];
        return split is { Port.Length: > 0 } ? JoinHostPort(host, split.Value.Port) : host;
    }

    // Go's net.SplitHostPort for the forms Prometheus sees: host:port and [v6]:port; null when there is no port.
    private static (string Host, string Port)? SplitHostPort(string hostPort)
    {
        var colon = hostPort.LastIndexOf(':');
        if (colon < 0)
        {
            return null;
        }

        var host = hostPort[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal) || host.Contains('[', StringComparison.Ordinal))
        {
            return null;
        }

        return (host, hostPort[(colon + 1)..]);
    }

    private static string JoinHostPort(string host, string port) => host.Contains(':', StringComparison.Ordinal)
        ? "[" + host + "]:" + port
        : host + ":" + port;

    // common/helpers/templates.ConvertToFloat.
    private static double ToFloat(object? value) => value switch
    {
        double d => d,
        long l => l,
        string s => GoFloat.TryParse(s, out var d, out var error) ? d : throw new TemplateFunctionException(error!),
        GoDuration d => d.TotalSeconds,
        _ => throw new TemplateFunctionException("can't convert " + GoTypeName(value) + " to float"),
    };

    private static string GoTypeName(object? value) => value switch
    {
        null => "<nil>",
        bool => "bool",
        IDictionary<string, object?> => "map[string]interface {}",
        IList<object?> => "template.queryResult",
        GoTime => "*time.Time",
        _ => value.GetType().Name,
    };

    private static string G4(double v) => GoFormat.Sprintf("%.4g", [v], TemplateLimits.MinOutputLimit);

    private static string Humanize(double v)
    {
        if (v == 0 || double.IsNaN(v) || double.IsInfinity(v))
        {
            return G4(v);
        }

        var prefix = string.Empty;
        if (Math.Abs(v) >= 1)
        {
            foreach (var p in SiLarge)
            {
                if (Math.Abs(v) < 1000)
                {
                    break;
                }

                prefix = p;
                v /= 1000;
            }

            return G4(v) + prefix;
        }

        foreach (var p in SiSmall)
        {
            if (Math.Abs(v) >= 1)
            {
                break;
            }

            prefix = p;
            v *= 1000;
        }

        return G4(v) + prefix;
    }

    private static string Humanize1024(double v)
    {
        if (Math.Abs(v) <= 1 || double.IsNaN(v) || double.IsInfinity(v))
        {
            return G4(v);
        }

        var prefix = string.Empty;
        foreach (var p in Binary)
        {
            if (Math.Abs(v) < 1024)
            {
                break;
            }

            prefix = p;
            v /= 1024;
        }

        return G4(v) + prefix;
    }

    // common/helpers/templates.HumanizeDuration.
    private static string HumanizeDuration(double v)
    {
        if (double.IsNaN(v) || double.IsInfinity(v))
        {
            return G4(v);
        }

        if (v == 0)
        {
            return G4(v) + "s";
        }

        if (Math.Abs(v) >= 1)
        {
            var sign = v < 0 ? "-" : string.Empty;
            v = Math.Abs(v);
            var duration = (long)v;
            var seconds = duration % 60;
            var minutes = duration / 60 % 60;
            var hours = duration / 60 / 60 % 24;
            var days = duration / 60 / 60 / 24;
            var inv = CultureInfo.InvariantCulture;
            if (days != 0)
            {
                return string.Create(inv, $"{sign}{days}d {hours}h {minutes}m {seconds}s");
            }

            if (hours != 0)
            {
                return string.Create(inv, $"{sign}{hours}h {minutes}m {seconds}s");
            }

            if (minutes != 0)
            {
                return string.Create(inv, $"{sign}{minutes}m {seconds}s");
            }

            return sign + G4(v) + "s";
        }

        var prefix = string.Empty;
        foreach (var p in SiSmall)
        {
            if (Math.Abs(v) >= 1)
            {
                break;
            }

            prefix = p;
            v *= 1000;
        }

        return G4(v) + prefix + "s";
    }

    private static string HumanizeTimestamp(double v) =>
        double.IsNaN(v) || double.IsInfinity(v) ? G4(v) : ToTime(v).ToString();

    // common/helpers/templates.FloatToTime: UTC, nanosecond precision.
    private static GoTime ToTime(double v)
    {
        if (double.IsNaN(v) || double.IsInfinity(v))
        {
            throw new TemplateFunctionException("value is NaN or Inf");
        }

        var ns = v * 1e9;
        if (ns >= long.MaxValue || ns < long.MinValue)
        {
            throw new TemplateFunctionException(GoFloat.FormatV(v) + " cannot be represented as a nanoseconds timestamp since it overflows int64");
        }

        return GoTime.FromUnixNanos((long)ns);
    }

    // model.ParseDurationAllowNegative, in seconds.
    private static double ParseDuration(string text)
    {
        var negative = text.StartsWith('-');
        var duration = GoDuration.TryParsePrometheus(negative ? text.AsSpan(1) : text, out var error) ??
                       throw new TemplateFunctionException(error!.Replace(GoString.Quote(text.TrimStart('-')), GoString.Quote(text), StringComparison.Ordinal));
        return (negative ? -1 : 1) * duration.TotalSeconds;
    }
}
