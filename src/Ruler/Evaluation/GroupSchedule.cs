namespace LokiSharp.Ruler.Evaluation;

/// <summary>
/// When a group evaluates, as Prometheus schedules it (<c>rules.Group.EvalTimestamp</c>): every interval, at times
/// shifted from the multiples of the interval by an offset derived from a hash of the group's file and name, so that
/// groups spread over the interval and a group keeps its slots across restarts and reloads.
/// </summary>
public sealed class GroupSchedule
{
    private readonly long _intervalTicks;
    private readonly long _offsetTicks;

    /// <summary>Creates the schedule of the group <paramref name="name"/> in <paramref name="file"/>.</summary>
    public GroupSchedule(string file, string name, TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), "the evaluation interval must be positive");
        }

        Interval = interval;
        _intervalTicks = interval.Ticks;
        _offsetTicks = (long)(Hash(file, name) % (ulong)_intervalTicks);
    }

    /// <summary>The evaluation interval.</summary>
    public TimeSpan Interval { get; }

    /// <summary>The group's shift from the interval's multiples of Unix time.</summary>
    public TimeSpan Offset => TimeSpan.FromTicks(_offsetTicks);

    /// <summary>The latest slot at or before <paramref name="now"/>.</summary>
    public DateTimeOffset SlotAtOrBefore(DateTimeOffset now)
    {
        var adjusted = now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks - _offsetTicks;
        var floor = adjusted - Mod(adjusted, _intervalTicks);
        return new DateTimeOffset(DateTimeOffset.UnixEpoch.UtcTicks + floor + _offsetTicks, TimeSpan.Zero);
    }

    /// <summary>The first slot after <paramref name="now"/>: a group's first evaluation after it is loaded.</summary>
    public DateTimeOffset FirstSlotAfter(DateTimeOffset now) => SlotAtOrBefore(now) + Interval;

    /// <summary>
    /// The slot to evaluate after <paramref name="previous"/> when it is <paramref name="now"/>: the next one, or, when
    /// evaluations fell behind, the latest one due (the skipped ones are <paramref name="missed"/>, as Prometheus counts them).
    /// </summary>
    public DateTimeOffset Next(DateTimeOffset previous, DateTimeOffset now, out int missed)
    {
        var next = previous + Interval;
        missed = 0;
        if (now > next)
        {
            var behind = (now - next).Ticks / _intervalTicks;
            missed = (int)Math.Min(behind, int.MaxValue);
            next += TimeSpan.FromTicks(behind * _intervalTicks);
        }

        return next;
    }

    private static long Mod(long value, long divisor)
    {
        var r = value % divisor;
        return r < 0 ? r + divisor : r;
    }

    // FNV-1a over the file and the name (Prometheus hashes the same two with xxhash; only stability matters).
    private static ulong Hash(string file, string name)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in file + "\xff" + name)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }

        return hash;
    }
}
