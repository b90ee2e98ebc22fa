using System.Globalization;
using System.Text.Json;
using LokiSharp.LogQL.Labels;
using LokiSharp.Ruler.Evaluation;
using LokiSharp.Storage.Store;

namespace LokiSharp.Ruler.State;

/// <summary>
/// Keeps each group's active alerts in the ruler's <c>wal.dir</c> so that <c>for</c> state survives a restart: one JSON
/// file per group under <c>&lt;dir&gt;/&lt;tenant&gt;/alert-state/</c>, replaced atomically after an evaluation that has
/// active alerts (or had some before) and removed when none are left. The file holds the facts Prometheus keeps in its
/// <c>ALERTS_FOR_STATE</c> series (labels and ActiveAt per alert, and the time they were last true); Loki's ruler keeps
/// none across a restart and re-runs the alert's query at "now minus <c>for</c>" instead (its in-memory store).
/// </summary>
public sealed class AlertStateStore(string directory)
{
    /// <summary>Writes (or, with no alerts, deletes) the state of <paramref name="key"/>.</summary>
    public void Save(GroupKey key, DateTimeOffset evaluatedAt, IReadOnlyList<SavedAlert> alerts)
    {
        var path = PathOf(key);
        if (alerts.Count == 0)
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }

            return;
        }

        var folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        DurableFile.Replace(path, stream =>
        {
            using var w = new Utf8JsonWriter(stream);
            w.WriteStartObject();
            w.WriteString("namespace", key.Namespace);
            w.WriteString("group", key.Group);
            w.WriteNumber("evaluatedAtMs", evaluatedAt.ToUnixTimeMilliseconds());
            w.WriteStartArray("alerts");
            foreach (var alert in alerts)
            {
                w.WriteStartObject();
                w.WriteString("rule", alert.Rule);
                w.WriteNumber("activeAtMs", alert.ActiveAt.ToUnixTimeMilliseconds());
                w.WriteStartObject("labels");
                foreach (var pair in alert.Labels)
                {
                    w.WriteString(pair.Name, pair.Value);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>The saved state of <paramref name="key"/>, or null when there is none or it cannot be read.</summary>
    public SavedGroupState? Load(GroupKey key)
    {
        var path = PathOf(key);
        if (!File.Exists(path))
        {
            return null;
        }

        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        if (root.GetProperty("namespace").GetString() != key.Namespace || root.GetProperty("group").GetString() != key.Group)
        {
            return null;
        }

        var alerts = new List<SavedAlert>();
        foreach (var a in root.GetProperty("alerts").EnumerateArray())
        {
            var labels = LabelSet.From(a.GetProperty("labels").EnumerateObject().Select(static p => new LabelPair(p.Name, p.Value.GetString() ?? "")));
            alerts.Add(new SavedAlert(a.GetProperty("rule").GetString() ?? "", labels,
                DateTimeOffset.FromUnixTimeMilliseconds(a.GetProperty("activeAtMs").GetInt64())));
        }

        return new SavedGroupState(DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("evaluatedAtMs").GetInt64()), alerts);
    }

    // A group's file name is a hash of its namespace and name (both may hold any character); the file names them too.
    private string PathOf(GroupKey key)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in key.Namespace + "\xff" + key.Group)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }

        return Path.Combine(directory, key.Tenant, "alert-state", hash.ToString("x16", CultureInfo.InvariantCulture) + ".json");
    }
}
