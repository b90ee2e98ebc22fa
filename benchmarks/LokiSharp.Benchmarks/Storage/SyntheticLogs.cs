using System.Text;

namespace LokiSharp.Benchmarks.Storage;

/// <summary>Deterministic application-like log lines (logfmt with ids, paths, durations) for storage benchmarks.</summary>
internal static class SyntheticLogs
{
    private static readonly string[] Levels = ["info", "info", "info", "info", "debug", "warn", "error"];
    private static readonly string[] Paths =
        ["/api/cart", "/api/checkout", "/api/catalog/rings", "/api/catalog/necklaces", "/api/user/profile", "/healthz", "/api/payment/authorize"];
    private static readonly string[] Messages = ["request completed", "cache miss, loading from database", "item added to cart", "payment authorized",
        "inventory reserved", "session refreshed", "slow query detected", "retrying upstream call"];

    /// <summary>About <paramref name="rawBytes"/> of lines; every <paramref name="needleEvery"/>-th line says "declined".</summary>
    public static List<(long Ts, byte[] Line)> Generate(int rawBytes, int seed = 42, int needleEvery = 50_000)
    {
        var rng = new Random(seed);
        var lines = new List<(long, byte[])>();
        var ts = 1_704_067_200_000_000_000L;
        var total = 0;
        var sb = new StringBuilder(256);
        for (var i = 0; total < rawBytes; i++)
        {
            ts += rng.Next(1_000_000, 20_000_000);
            sb.Clear();
            sb.Append("ts=").Append(DateTime.UnixEpoch.AddTicks(ts / 100).ToString("yyyy-MM-ddTHH:mm:ss.fffZ",
                System.Globalization.CultureInfo.InvariantCulture));
            sb.Append(" level=").Append(Levels[rng.Next(Levels.Length)]);
            sb.Append(" trace_id=").Append(rng.NextInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture));
            sb.Append(" method=").Append(rng.Next(3) == 0 ? "POST" : "GET");
            sb.Append(" path=").Append(Paths[rng.Next(Paths.Length)]);
            sb.Append(" status=").Append(rng.Next(20) == 0 ? 500 : 200);
            sb.Append(" duration=").Append(rng.Next(1, 2000)).Append("ms");
            sb.Append(" user_id=").Append(rng.Next(100_000));
            sb.Append(" msg=\"").Append(i % needleEvery == needleEvery / 2 ? "payment declined by issuer" : Messages[rng.Next(Messages.Length)]).Append('"');
            var line = Encoding.UTF8.GetBytes(sb.ToString());
            lines.Add((ts, line));
            total += line.Length;
        }

        return lines;
    }
}
