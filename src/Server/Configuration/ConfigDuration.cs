using LokiSharp.LogQL.Text;

namespace LokiSharp.Server.Configuration;

/// <summary>
/// Durations in config files: Go's form (<c>1h30m</c>, <c>1.5h</c>) or Prometheus' (<c>31d</c>, <c>1w</c>), since
/// Loki's config has keys of both kinds. Printed as Go prints them.
/// </summary>
public static class ConfigDuration
{
    /// <summary>Parses either form.</summary>
    public static bool TryParse(string text, out TimeSpan value)
    {
        var trimmed = text.Trim();
        var parsed = GoDuration.TryParseGo(trimmed, out _) ?? GoDuration.TryParsePrometheus(trimmed, out _);
        value = parsed?.ToTimeSpan() ?? TimeSpan.Zero;
        return parsed is not null;
    }

    /// <summary>Go's <c>time.Duration.String()</c>: <c>744h0m0s</c>, <c>10m0s</c>, <c>250ms</c>, <c>0s</c>.</summary>
    public static string Format(TimeSpan value) => GoDuration.FromTimeSpan(value).ToString();
}
