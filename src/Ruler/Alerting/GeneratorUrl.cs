using System.Globalization;
using System.Text;

namespace LokiSharp.Ruler.Alerting;

/// <summary>
/// An alert's <c>generatorURL</c> as Loki builds it: the external URL followed by a Grafana Explore link that runs
/// the rule's query (<c>/explore?left={"queries":[{"expr":...,"queryType":"range"}]}</c>, query-escaped).
/// </summary>
public static class GeneratorUrl
{
    /// <summary>The link for <paramref name="expr"/>; <paramref name="datasourceUid"/> (may be empty) names Grafana's Loki datasource.</summary>
    public static string For(string externalUrl, string expr, string datasourceUid)
    {
        var query = new StringBuilder("{\"expr\":");
        AppendGoJsonString(query, expr);
        query.Append(",\"queryType\":\"range\"");
        if (datasourceUid.Length > 0)
        {
            query.Append(",\"datasource\":{\"type\":\"loki\",\"uid\":");
            AppendGoJsonString(query, datasourceUid);
            query.Append('}');
        }

        query.Append('}');
        var left = "{\"queries\":[" + query + "]}";
        return externalUrl + "/explore?left=" + Uri.EscapeDataString(left).Replace("%20", "+", StringComparison.Ordinal);
    }

    // Go's encoding/json string form: HTML characters and U+2028/U+2029 escaped, other non-ASCII kept.
    private static void AppendGoJsonString(StringBuilder sb, string value)
    {
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '<' or '>' or '&' or '\u2028' or '\u2029' or < ' ':
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default: sb.Append(c); break;
            }
        }

        sb.Append('"');
    }
}
