using System.Globalization;
using LokiSharp.LogQL.Text;
using LokiSharp.Querier.Logs;
using LokiSharp.Querier.Metadata;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Requests;

/// <summary>
/// Loki's HTTP query parameters (<c>pkg/loghttp</c>): timestamps in Unix seconds, nanoseconds, float seconds or
/// RFC3339; <c>step</c> and <c>interval</c> as float seconds or durations; <c>limit</c>; <c>direction</c>. Errors
/// carry Loki's texts. Times are Unix nanoseconds; the range (<c>start</c>, <c>end</c>, <c>since</c>, <c>step</c>)
/// is <see cref="RequestBounds"/>.
/// </summary>
public static class QueryParameters
{
    /// <summary>Default <c>limit</c> of log queries.</summary>
    public const int DefaultLimit = 100;

    /// <summary>Parses one timestamp; empty gives <paramref name="fallback"/>.</summary>
    public static long ParseTimestamp(string? value, long fallback, string name)
    {
        if (string.IsNullOrEmpty(value))
        {
            return fallback;
        }

        if (value.Contains('.', StringComparison.Ordinal)
            && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var floatSeconds))
        {
            var whole = Math.Truncate(floatSeconds);
            var fraction = Math.Round((floatSeconds - whole) * 1000) / 1000;
            return ((long)whole * 1_000_000_000) + (long)(fraction * 1e9);
        }

        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return value.Length <= 10 ? integer * 1_000_000_000 : integer;
        }

        if (GoTimestamp.TryParseRfc3339(value, out var nanos))
        {
            return nanos;
        }

        throw new QueryRequestException($"could not parse '{name}' parameter: strconv.ParseInt: parsing {GoString.Quote(value)}: invalid syntax");
    }

    /// <summary><c>limit</c>: positive, default 100.</summary>
    public static int ParseLimit(string? value, int fallback = DefaultLimit, string name = "limit")
    {
        if (string.IsNullOrEmpty(value))
        {
            return fallback;
        }

        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var limit))
        {
            throw new QueryRequestException($"strconv.Atoi: parsing {GoString.Quote(value)}: invalid syntax");
        }

        if (limit <= 0)
        {
            throw new QueryRequestException("limit must be a positive value");
        }

        if (limit > uint.MaxValue)
        {
            throw new QueryRequestException($"{name} value {limit} is out of range [0, {uint.MaxValue}]");
        }

        return (int)Math.Min(limit, int.MaxValue);
    }

    /// <summary>The tenant's <c>max_entries_limit_per_query</c> (zero or less: no limit) against a query's <c>limit</c>.</summary>
    public static void CheckEntriesLimit(int limit, int maxEntriesLimitPerQuery)
    {
        if (maxEntriesLimitPerQuery > 0 && limit > maxEntriesLimitPerQuery)
        {
            throw new QueryRequestException(
                $"max entries limit per query exceeded, limit > max_entries_limit_per_query ({limit} > {maxEntriesLimitPerQuery})");
        }
    }

    /// <summary>The volume endpoints' <c>limit</c>: as <see cref="ParseLimit"/>, but 0 means the default.</summary>
    public static int ParseVolumeLimit(string? value) => value is "0" ? DefaultLimit : ParseLimit(value);

    /// <summary>The volume endpoints' <c>aggregateBy</c>: <c>series</c> (default) or <c>labels</c>.</summary>
    public static VolumeAggregation ParseVolumeAggregation(string? value) => value switch
    {
        null or "" or "series" => VolumeAggregation.Series,
        "labels" => VolumeAggregation.Labels,
        _ => throw new QueryRequestException("invalid aggregation option"),
    };

    /// <summary><c>direction</c>: forward or backward in any case, default backward.</summary>
    public static Direction ParseDirection(string? value) => value?.ToUpperInvariant() switch
    {
        null or "" or "BACKWARD" => Direction.Backward,
        "FORWARD" => Direction.Forward,
        _ => throw new QueryRequestException($"invalid direction '{value}'"),
    };

    /// <summary>A step or interval: float seconds or a Prometheus duration, in nanoseconds.</summary>
    public static long ParseSecondsOrDuration(string value)
    {
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            var nanos = seconds * 1e9;
            if (nanos is > long.MaxValue or < long.MinValue)
            {
                throw new QueryRequestException($"cannot parse {GoString.Quote(value)} to a valid duration. It overflows int64");
            }

            return (long)nanos;
        }

        return GoDuration.TryParsePrometheus(value, out _)?.Nanoseconds
            ?? throw new QueryRequestException($"cannot parse {GoString.Quote(value)} to a valid duration");
    }

    /// <summary><c>interval</c> of log queries: at most one line per interval; 0 when absent.</summary>
    public static long ParseInterval(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return 0;
        }

        var interval = ParseSecondsOrDuration(value);
        return interval < 0 ? throw new QueryRequestException("interval must be >= 0") : interval;
    }

    /// <summary>Most context lines a query may ask for on either side of a match.</summary>
    public const int MaxContextLines = 1000;

    /// <summary>
    /// LokiSharp's opt-in log query parameters: <c>cursor</c> (present, even empty, to paginate; the previous
    /// response's token to continue) and <c>context</c>, <c>context_before</c>, <c>context_after</c> (lines of the
    /// same stream around each match). None of them present gives <see cref="LogQueryExtras.None"/>.
    /// </summary>
    public static LogQueryExtras ParseExtras(string? cursor, string? context, string? before, string? after, long interval)
    {
        if (cursor is null && context is null && before is null && after is null)
        {
            return LogQueryExtras.None;
        }

        LogCursor? resume = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            resume = LogCursor.TryParse(cursor, out var parsed) ? parsed : throw new QueryRequestException($"invalid cursor {GoString.Quote(cursor)}");
        }

        var both = ParseContextLines(context, 0, "context");
        var extras = new LogQueryExtras
        {
            Paginate = cursor is not null,
            After = resume,
            ContextBefore = ParseContextLines(before, both, "context_before"),
            ContextAfter = ParseContextLines(after, both, "context_after"),
        };
        if (extras.Paginate && extras.WantsContext)
        {
            throw new QueryRequestException("cursor cannot be combined with context lines");
        }

        if (extras.Paginate && interval > 0)
        {
            throw new QueryRequestException("cursor cannot be combined with interval");
        }

        return extras;
    }

    private static int ParseContextLines(string? value, int fallback, string name)
    {
        if (string.IsNullOrEmpty(value))
        {
            return fallback;
        }

        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var lines) || lines > MaxContextLines)
        {
            throw new QueryRequestException($"invalid {name}: must be a whole number from 0 to {MaxContextLines}");
        }

        return lines;
    }
}
