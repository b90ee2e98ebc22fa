using System.Collections;
using System.Globalization;
using System.Text.Json;
using LokiSharp.Server.Configuration;
using LokiSharp.Server.Hosting;
using YamlDotNet.RepresentationModel;

namespace LokiSharp.Server.Http;

/// <summary>
/// A tenant's limits as clients read them: <c>/loki/api/v1/drilldown-limits</c> (JSON, for Logs Drilldown) and
/// <c>/config/tenant/v1/limits</c> (YAML), keyed by <c>limits_config</c> names.
/// </summary>
internal static class LimitsEndpoints
{
    public static void MapLimitsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/loki/api/v1/drilldown-limits", static context => WriteAsync(context, drilldown: true));
        endpoints.MapGet("/config/tenant/v1/limits", static context => WriteAsync(context, drilldown: false));
    }

    private static async Task WriteAsync(HttpContext context, bool drilldown)
    {
        var services = context.RequestServices;
        var tenant = services.GetRequiredService<Tenancy>().ResolveSingle(context.Request.Headers["X-Scope-OrgID"].ToString(), out var error);
        if (tenant is null)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status401Unauthorized, error.Message).ConfigureAwait(false);
            return;
        }

        var limits = Flatten(services.GetRequiredService<TenantLimitsSource>().LimitsFor(tenant));
        if (!drilldown)
        {
            var mapping = new YamlMappingNode();
            foreach (var (key, value) in limits)
            {
                mapping.Add(key, ToYaml(value));
            }

            using var text = new StringWriter(CultureInfo.InvariantCulture);
            new YamlStream(new YamlDocument(mapping)).Save(text, assignAnchors: false);
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(text.ToString().Replace("...\n", "", StringComparison.Ordinal)).ConfigureAwait(false);
            return;
        }

        await QueryEndpoints.WriteJsonAsync(context, 200, w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("limits");
            foreach (var (key, value) in limits)
            {
                w.WritePropertyName(key);
                WriteJson(w, value);
            }

            w.WriteEndObject();

            w.WriteBoolean("pattern_ingester_enabled", context.RequestServices.GetRequiredService<LokiConfig>().PatternIngester.Enabled);
            w.WriteString("version", BuildInfo.LokiCompatibleVersion);
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    // limits_config keys in name order, values as plain JSON/YAML scalars (durations and sizes as Loki prints them).
    private static SortedDictionary<string, object?> Flatten(LimitsConfig limits)
    {
        var result = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, property) in ConfigBinder.PropertiesOf(typeof(LimitsConfig)))
        {
            result[name] = Plain(property.GetValue(limits));
        }

        return result;
    }

    private static object? Plain(object? value) => value switch
    {
        null or string or bool or int or long or double => value,
        TimeSpan t => ConfigDuration.Format(t),
        ByteSize size => size.ToString(),
        IDictionary dictionary => dictionary.Keys.Cast<object>().ToDictionary(k => Convert.ToString(k, CultureInfo.InvariantCulture)!,
            k => Plain(dictionary[k])),
        IList list => list.Cast<object?>().Select(Plain).ToList(),
        _ => ConfigBinder.PropertiesOf(value.GetType()).ToDictionary(p => p.Key, p => Plain(p.Value.GetValue(value))),
    };

    private static void WriteJson(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null:
                w.WriteNullValue();
                break;
            case string s:
                w.WriteStringValue(s);
                break;
            case bool b:
                w.WriteBooleanValue(b);
                break;
            case int i:
                w.WriteNumberValue(i);
                break;
            case long l:
                w.WriteNumberValue(l);
                break;
            case double d:
                w.WriteNumberValue(d);
                break;
            case Dictionary<string, object?> map:
                w.WriteStartObject();
                foreach (var key in map.Keys.Order(StringComparer.Ordinal))
                {
                    w.WritePropertyName(key);
                    WriteJson(w, map[key]);
                }

                w.WriteEndObject();
                break;
            case List<object?> list:
                w.WriteStartArray();
                foreach (var item in list)
                {
                    WriteJson(w, item);
                }

                w.WriteEndArray();
                break;
        }
    }

    private static YamlNode ToYaml(object? value) => value switch
    {
        null => new YamlScalarNode("null"),
        string s => new YamlScalarNode(s) { Style = s.Length == 0 ? YamlDotNet.Core.ScalarStyle.DoubleQuoted : YamlDotNet.Core.ScalarStyle.Any },
        bool b => new YamlScalarNode(b ? "true" : "false"),
        double d => new YamlScalarNode(d.ToString("R", CultureInfo.InvariantCulture)),
        Dictionary<string, object?> map => new YamlMappingNode(map.Keys.Order(StringComparer.Ordinal)
            .Select(k => new KeyValuePair<YamlNode, YamlNode>(new YamlScalarNode(k), ToYaml(map[k])))),
        List<object?> list => new YamlSequenceNode(list.Select(ToYaml)),
        _ => new YamlScalarNode(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };
}
