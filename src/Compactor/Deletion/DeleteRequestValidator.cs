using System.Globalization;
using LokiSharp.LogQL.Syntax;
using LokiSharp.LogQL.Text;

namespace LokiSharp.Compactor.Deletion;

/// <summary>
/// Loki's checks of the delete API's parameters (spec §9), in Loki's order and with its texts. Each check throws
/// <see cref="DeleteRequestException"/>; the caller answers with its status and message.
/// </summary>
public static class DeleteRequestValidator
{
    /// <summary>The tenant's <c>deletion_mode</c> that turns the API off.</summary>
    public const string DisabledMode = "disabled";

    /// <summary>403 when the tenant's <c>deletion_mode</c> is <c>disabled</c>.</summary>
    public static void CheckDeletionMode(string deletionMode)
    {
        if (deletionMode == DisabledMode)
        {
            throw new DeleteRequestException("deletion is not available for this tenant", 403);
        }
    }

    /// <summary>
    /// A new request from the create call's <c>query</c>, <c>start</c>, <c>end</c> (default now, never later) and
    /// <c>max_interval</c> (checked, not used) parameters; empty strings stand for absent parameters.
    /// </summary>
    public static DeleteRequest ParseCreate(string tenant, string query, string start, string end, string maxInterval, long nowMs)
    {
        if (query.Length == 0)
        {
            throw new DeleteRequestException("query not set");
        }

        try
        {
            LogQLParser.ParseLogSelector(query);
        }
        catch (LogQLParseException e)
        {
            throw new DeleteRequestException(e.Message);
        }

        if (start.Length == 0)
        {
            throw new DeleteRequestException("start time not set");
        }

        if (!TryParseTime(start, out var startMs))
        {
            throw new DeleteRequestException("invalid start time: require unix seconds or RFC3339 format");
        }

        var endMs = nowMs;
        if (end.Length > 0)
        {
            if (!TryParseTime(end, out endMs))
            {
                throw new DeleteRequestException("invalid end time: require unix seconds or RFC3339 format");
            }

            if (endMs > nowMs)
            {
                throw new DeleteRequestException("deletes in the future are not allowed");
            }
        }

        if (startMs >= endMs)
        {
            throw new DeleteRequestException("start time can't be greater than or equal to end time");
        }

        if (maxInterval.Length > 0 && (!TryParseDuration(maxInterval, out var interval) || interval < TimeSpan.FromSeconds(1)))
        {
            throw new DeleteRequestException("invalid max_interval: valid time units are 's', 'm', 'h'");
        }

        return new DeleteRequest
        {
            RequestId = Guid.NewGuid().ToString("N")[..8],
            Tenant = tenant,
            Query = query,
            StartMs = startMs,
            EndMs = endMs,
            CreatedAtMs = nowMs,
        };
    }

    /// <summary>The list call's optional <c>start</c> and <c>end</c>, unbounded when empty.</summary>
    public static (long StartMs, long EndMs) ParseListRange(string start, string end)
    {
        var startMs = long.MinValue;
        var endMs = long.MaxValue;
        if (start.Length > 0 && !TryParseTime(start, out startMs))
        {
            throw new DeleteRequestException("invalid start time: require unix seconds or RFC3339 format");
        }

        if (end.Length > 0 && !TryParseTime(end, out endMs))
        {
            throw new DeleteRequestException("invalid end time: require unix seconds or RFC3339 format");
        }

        return (startMs, endMs);
    }

    /// <summary>
    /// Whether <paramref name="request"/> (null when no request has the id) may be cancelled: 404 when unknown, 400
    /// once processed or, unless <paramref name="force"/>, past <c>delete_request_cancel_period</c>.
    /// </summary>
    public static void CheckCancel(DeleteRequest? request, bool force, TimeSpan cancelPeriod, long nowMs)
    {
        if (request is null)
        {
            throw new DeleteRequestException("could not find delete request with given id", 404);
        }

        if (request.Status == DeleteRequestStatus.Processed)
        {
            throw new DeleteRequestException("deletion of request which is in process or already processed is not allowed");
        }

        if (!force && nowMs - request.CreatedAtMs > (long)cancelPeriod.TotalMilliseconds)
        {
            throw new DeleteRequestException("Cancellation of partially completed delete request or delete request past the deadline of " +
                                             GoDuration.FromTimeSpan(cancelPeriod) + " since its creation is not allowed. " +
                                             "To force, use the ?force query parameter");
        }
    }

    /// <summary>Loki's delete API times: exactly ten digits of Unix seconds, or RFC3339.</summary>
    public static bool TryParseTime(string text, out long unixMs)
    {
        unixMs = 0;
        if (text.Length == 10 && text.All(char.IsAsciiDigit))
        {
            unixMs = long.Parse(text, CultureInfo.InvariantCulture) * 1000;
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time) && text.Contains('T', StringComparison.Ordinal))
        {
            unixMs = time.ToUnixTimeMilliseconds();
            return true;
        }

        return false;
    }

    // max_interval is read as a config duration is: Go's form or Prometheus'.
    private static bool TryParseDuration(string text, out TimeSpan value)
    {
        var trimmed = text.Trim();
        var parsed = GoDuration.TryParseGo(trimmed, out _) ?? GoDuration.TryParsePrometheus(trimmed, out _);
        value = parsed?.ToTimeSpan() ?? TimeSpan.Zero;
        return parsed is not null;
    }
}
