using System.Buffers;
using System.Globalization;
using System.Text.Json;
using LokiSharp.LogQL.Labels;
using LokiSharp.Ruler.Alerting;

namespace LokiSharp.Ruler.Notifications;

/// <summary>
/// The body of <c>POST /api/v2/alerts</c>: Alertmanager's <c>PostableAlerts</c> as Prometheus' notifier writes them,
/// with times in <c>strfmt.DateTime</c>'s form (UTC, milliseconds); an unknown time is left out, which Alertmanager
/// reads as Go's zero time just like Prometheus' explicit zero.
/// </summary>
internal static class AlertmanagerPayload
{
    /// <summary>The JSON array for <paramref name="alerts"/>, each given the external labels it lacks.</summary>
    public static byte[] Write(IReadOnlyList<AlertNotification> alerts, LabelSet externalLabels)
    {
        var buffer = new ArrayBufferWriter<byte>(256 * alerts.Count);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var alert in alerts)
            {
                json.WriteStartObject();
                json.WritePropertyName("labels");
                WriteLabels(json, WithExternalLabels(alert.Labels, externalLabels));
                json.WritePropertyName("annotations");
                WriteLabels(json, alert.Annotations);
                if (alert.StartsAt is { } startsAt)
                {
                    json.WriteString("startsAt", FormatTime(startsAt));
                }

                if (alert.EndsAt is { } endsAt)
                {
                    json.WriteString("endsAt", FormatTime(endsAt));
                }

                if (alert.GeneratorUrl.Length > 0)
                {
                    json.WriteString("generatorURL", alert.GeneratorUrl);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    internal static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    // Prometheus' relabelAlerts: an external label is added only where the alert has no (or an empty) value.
    internal static LabelSet WithExternalLabels(LabelSet labels, LabelSet externalLabels)
    {
        if (externalLabels.Count == 0)
        {
            return labels;
        }

        var pairs = new List<LabelPair>(labels.Count + externalLabels.Count);
        pairs.AddRange(labels);
        foreach (var external in externalLabels)
        {
            if (string.IsNullOrEmpty(labels.Get(external.Name)))
            {
                pairs.Add(external);
            }
        }

        // A later duplicate replaces an earlier one, so an external label fills an empty value.
        return pairs.Count == labels.Count ? labels : LabelSet.From(pairs);
    }

    private static void WriteLabels(Utf8JsonWriter json, LabelSet labels)
    {
        json.WriteStartObject();
        foreach (var label in labels)
        {
            // An empty value is Prometheus' absent label.
            if (label.Value.Length > 0)
            {
                json.WriteString(label.Name, label.Value);
            }
        }

        json.WriteEndObject();
    }
}
