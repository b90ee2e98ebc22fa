using System.Globalization;
using System.Text.Json;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Text;
using LokiSharp.Ruler.Alerting;
using LokiSharp.Ruler.Evaluation;
using LokiSharp.Ruler.Rules;

namespace LokiSharp.Ruler.Api;

/// <summary>
/// The JSON of Loki's Prometheus-compatible ruler endpoints (<c>pkg/ruler/base/api.go</c>): <c>/prometheus/api/v1/rules</c>,
/// <c>/prometheus/api/v1/alerts</c>, the 202 answer of rule changes and the error envelope, with Go's field order,
/// time and number forms.
/// </summary>
public static class PrometheusRulesJson
{
    /// <summary>Writes <c>{"status":"success","data":{"groups":[...]},"errorType":"","error":""}</c>.</summary>
    public static void WriteRules(Utf8JsonWriter w, IReadOnlyList<GroupStatus> groups, RulesRequest request)
    {
        w.WriteStartObject();
        w.WriteString("status", "success");
        w.WriteStartObject("data");
        w.WriteStartArray("groups");
        foreach (var group in groups)
        {
            if (Filtered(request.Groups, group.Key.Group) || Filtered(request.Files, group.Key.Namespace))
            {
                continue;
            }

            var rules = group.Rules.Where(r => !Filtered(request.Names, r.Definition.Name) &&
                (request.Type is null || request.Type == r.Definition.Kind)).ToList();
            if (rules.Count == 0)
            {
                continue;
            }

            WriteGroup(w, group, rules);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteString("errorType", "");
        w.WriteString("error", "");
        w.WriteEndObject();
    }

    /// <summary>Writes <c>{"status":"success","data":{"alerts":[...]},...}</c>: every pending and firing alert.</summary>
    public static void WriteAlerts(Utf8JsonWriter w, IReadOnlyList<GroupStatus> groups)
    {
        w.WriteStartObject();
        w.WriteString("status", "success");
        w.WriteStartObject("data");
        w.WriteStartArray("alerts");
        foreach (var rule in groups.SelectMany(static g => g.Rules).Where(static r => r.Definition.Kind == RuleKind.Alerting))
        {
            foreach (var alert in rule.Alerts)
            {
                WriteAlert(w, alert);
            }
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteString("errorType", "");
        w.WriteString("error", "");
        w.WriteEndObject();
    }

    /// <summary>The 202 answer of a rule change: <c>{"status":"success","data":null,"errorType":"","error":""}</c>.</summary>
    public static void WriteAccepted(Utf8JsonWriter w) => WriteEnvelope(w, "success", "", "");

    /// <summary>An error: <c>{"status":"error","data":null,"errorType":"bad_data"|"server_error","error":"..."}</c>.</summary>
    public static void WriteError(Utf8JsonWriter w, string errorType, string message) => WriteEnvelope(w, "error", errorType, message);

    private static void WriteEnvelope(Utf8JsonWriter w, string status, string errorType, string error)
    {
        w.WriteStartObject();
        w.WriteString("status", status);
        w.WriteNull("data");
        w.WriteString("errorType", errorType);
        w.WriteString("error", error);
        w.WriteEndObject();
    }

    private static bool Filtered(IReadOnlyList<string> allowed, string value) => allowed.Count > 0 && !allowed.Contains(value);

    private static void WriteGroup(Utf8JsonWriter w, GroupStatus group, List<RuleStatus> rules)
    {
        w.WriteStartObject();
        w.WriteString("name", group.Key.Group);
        w.WriteString("file", group.Key.Namespace);
        w.WriteStartArray("rules");
        foreach (var rule in rules)
        {
            WriteRule(w, rule);
        }

        w.WriteEndArray();
        WriteFloat(w, "interval", group.Interval.TotalSeconds);
        w.WriteNumber("limit", group.Definition.Limit);
        w.WriteString("lastEvaluation", Time(group.LastEvaluation));
        WriteFloat(w, "evaluationTime", group.EvaluationTime.TotalSeconds);
        w.WriteEndObject();
    }

    private static void WriteRule(Utf8JsonWriter w, RuleStatus rule)
    {
        var definition = rule.Definition;
        var alerting = definition.Kind == RuleKind.Alerting;
        w.WriteStartObject();
        if (alerting)
        {
            w.WriteString("state", StateName(rule.State));
        }

        w.WriteString("name", definition.Name);
        w.WriteString("query", definition.Query.ToString());
        if (alerting)
        {
            WriteFloat(w, "duration", definition.For.TotalSeconds);
        }

        WriteLabels(w, "labels", definition.Labels.Select(static l => new LabelPair(l.Key, l.Value)));
        if (alerting)
        {
            WriteLabels(w, "annotations", definition.Annotations.Select(static l => new LabelPair(l.Key, l.Value)));
            w.WriteStartArray("alerts");
            foreach (var alert in rule.Alerts)
            {
                WriteAlert(w, alert);
            }

            w.WriteEndArray();
        }

        w.WriteString("health", rule.Health switch
        {
            RuleHealth.Ok => "ok",
            RuleHealth.Err => "err",
            _ => "unknown",
        });
        w.WriteString("lastError", rule.LastError);
        w.WriteString("type", alerting ? "alerting" : "recording");
        w.WriteString("lastEvaluation", Time(rule.LastEvaluation));
        WriteFloat(w, "evaluationTime", rule.EvaluationTime.TotalSeconds);
        w.WriteEndObject();
    }

    private static void WriteAlert(Utf8JsonWriter w, Alert alert)
    {
        w.WriteStartObject();
        WriteLabels(w, "labels", alert.Labels);
        WriteLabels(w, "annotations", alert.Annotations);
        w.WriteString("state", StateName(alert.State));
        w.WriteString("activeAt", Time(alert.ActiveAt));
        w.WriteString("value", Exponent(alert.Value));
        w.WriteEndObject();
    }

    private static void WriteLabels(Utf8JsonWriter w, string name, IEnumerable<LabelPair> labels)
    {
        w.WriteStartObject(name);
        foreach (var pair in labels.OrderBy(static p => p.Name, StringComparer.Ordinal))
        {
            w.WriteString(pair.Name, pair.Value);
        }

        w.WriteEndObject();
    }

    private static string StateName(AlertState state) => state switch
    {
        AlertState.Inactive => "inactive",
        AlertState.Pending => "pending",
        AlertState.Firing => "firing",
        _ => "unknown",
    };

    // Go's time.Time JSON (RFC3339Nano); the zero time when never evaluated.
    private static string Time(DateTimeOffset? time) =>
        time is { } t ? GoTimestamp.FormatRfc3339Nano((t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100) : "0001-01-01T00:00:00Z";

    // Go's encoding/json float64: shortest fixed digits, exponent form (e-7, e+21) outside [1e-6, 1e21).
    private static void WriteFloat(Utf8JsonWriter w, string name, double value)
    {
        var abs = Math.Abs(value);
        var text = abs != 0 && (abs < 1e-6 || abs >= 1e21)
            ? Exponent(value).Replace("e-0", "e-", StringComparison.Ordinal).Replace("e+0", "e+", StringComparison.Ordinal)
            : GoFloat.FormatShortestFixed(value);
        w.WritePropertyName(name);
        w.WriteRawValue(text, skipInputValidation: true);
    }

    /// <summary>Go's <c>strconv.FormatFloat(v, 'e', -1, 64)</c>: <c>1.5e+01</c>, <c>1e+00</c>, <c>0e+00</c>.</summary>
    public static string Exponent(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "+Inf" : "-Inf";
        }

        var shortest = value.ToString("R", CultureInfo.InvariantCulture);
        var negative = shortest.StartsWith('-');
        var body = negative ? shortest[1..] : shortest;
        var exponent = 0;
        var e = body.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(body[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            body = body[..e];
        }

        var point = body.IndexOf('.', StringComparison.Ordinal);
        var digits = point >= 0 ? body.Remove(point, 1) : body;
        var pointPos = point >= 0 ? point : body.Length;
        var leading = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        if (digits.Length == 0)
        {
            return (negative ? "-" : "") + "0e+00";
        }

        exponent += pointPos - leading - 1;
        var mantissa = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
        return (negative ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") +
            Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
    }
}
