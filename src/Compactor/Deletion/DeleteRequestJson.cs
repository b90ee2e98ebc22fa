using System.Globalization;
using System.Text.Json;

namespace LokiSharp.Compactor.Deletion;

/// <summary>The delete API's JSON shapes (spec §9).</summary>
public static class DeleteRequestJson
{
    /// <summary>The list call's array of requests, with Loki's field names and order.</summary>
    public static void WriteList(Utf8JsonWriter json, IEnumerable<DeleteRequest> requests)
    {
        json.WriteStartArray();
        foreach (var r in requests)
        {
            json.WriteStartObject();
            json.WriteString("request_id", r.RequestId);
            WriteSeconds(json, "start_time", r.StartMs);
            WriteSeconds(json, "end_time", r.EndMs);
            json.WriteString("query", r.Query);
            json.WriteString("status", r.Status == DeleteRequestStatus.Processed ? "processed" : "received");
            WriteSeconds(json, "created_at", r.CreatedAtMs);
            json.WriteString("user_id", string.Empty);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>The cache generation number as Loki answers it: a JSON string and a newline.</summary>
    public static string GenerationBody(long generation) => "\"" + generation.ToString(CultureInfo.InvariantCulture) + "\"\n";

    private static void WriteSeconds(Utf8JsonWriter json, string name, long ms)
    {
        // Prometheus model.Time: seconds with the milliseconds as a fraction only when non-zero.
        json.WritePropertyName(name);
        json.WriteRawValue(ms % 1000 == 0
            ? (ms / 1000).ToString(CultureInfo.InvariantCulture)
            : (ms / 1000.0).ToString("0.###", CultureInfo.InvariantCulture));
    }
}
