using System.Text;

namespace LokiSharp.LoadTest;

/// <summary>
/// A deterministic multi-app dataset shaped like the jewelry shop's: Django JSON, Celery logfmt, Nginx access
/// lines and plain-text PostgreSQL/Redis lines, across pods, in time order per stream.
/// </summary>
public static class LogDataset
{
    /// <summary>The apps, in order: stream number n is of app n modulo their count.</summary>
    public static IReadOnlyList<string> Apps { get; } = ["django", "celery-worker", "nginx", "postgres", "redis"];
    private static readonly string[] Paths = ["/rings", "/cart", "/checkout", "/api/orders", "/necklaces", "/health"];
    private static readonly string[] Levels = ["info", "info", "info", "warning", "error", "debug"];

    /// <summary>Streams of the dataset: <paramref name="podsPerApp"/> pods per app, each with its own label set.</summary>
    public static List<string> StreamLabels(int podsPerApp)
    {
        var labels = new List<string>();
        foreach (var app in Apps)
        {
            for (var pod = 0; pod < podsPerApp; pod++)
            {
                labels.Add($"{{app=\"{app}\", container=\"{app}\", namespace=\"jewelry-shop\", pod=\"{app}-{pod:D2}\"}}");
            }
        }

        return labels;
    }

    /// <summary>One line of stream <paramref name="stream"/>, number <paramref name="sequence"/>.</summary>
    public static byte[] Line(int stream, long sequence)
    {
        var random = new Random(HashCode.Combine(stream, sequence));
        var app = Apps[stream % Apps.Count];
        var level = Levels[random.Next(Levels.Length)];
        var path = Paths[random.Next(Paths.Length)];
        var status = random.Next(10) == 0 ? 500 + random.Next(4) : 200;
        var text = app switch
        {
            "django" => $"{{\"level\":\"{level}\",\"logger\":\"shop.views\",\"msg\":\"{(status >= 500 ? "payment declined" : "order placed")}\"," +
                $"\"path\":\"{path}\",\"status\":{status},\"duration_ms\":{random.Next(5, 1500)},\"user_id\":{random.Next(100000)}," +
                $"\"request_id\":\"{Guid.NewGuid():N}\"}}",
            "celery-worker" => $"ts={sequence} level={level} task=shop.tasks.{(random.Next(2) == 0 ? "send_email" : "charge_card")} " +
                $"runtime={random.Next(1, 900)}ms id={Guid.NewGuid():N} msg=\"Task succeeded\"",
            "nginx" => $"10.0.{random.Next(256)}.{random.Next(256)} - - [24/Nov/2026:10:00:00 +0000] \"GET {path} HTTP/1.1\" " +
                $"{status} {random.Next(200, 90000)} \"-\" \"Mozilla/5.0\" {random.Next(1, 3000) / 1000.0:F3}",
            "postgres" => $"2026-11-24 10:00:00.000 UTC [{random.Next(1000, 9999)}] LOG:  duration: {random.Next(1, 800)}.{random.Next(1000):D3} ms  " +
                $"statement: SELECT * FROM orders WHERE id = {random.Next(100000)}",
            _ => $"1:M 24 Nov 2026 10:00:00.000 * {(random.Next(20) == 0 ? "Background saving started" : "DB saved on disk")} by pid {random.Next(100, 999)}",
        };
        return Encoding.UTF8.GetBytes(text);
    }
}
