using System.Globalization;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation;

/// <summary>
/// The memory one query may hold (LokiSharp's <c>max_query_memory_bytes</c>). The big consumers reserve what they
/// grow by — sample arrays and result points of metric queries, buffered lines of log queries, label sets of the
/// metadata endpoints — and release what they free; a reservation past the limit throws
/// <see cref="QueryMemoryLimitException"/>, so the query fails with a clear message instead of growing until the
/// process dies. Estimates, not exact sizes: they are made where a structure grows, never per line read.
/// Thread-safe.
/// </summary>
public sealed class QueryMemoryBudget
{
    /// <summary>Rough cost of an object header plus its references, for the estimates below.</summary>
    public const long ObjectOverhead = 32;

    private long _reserved;
    private long _peak;

    /// <summary>A budget of <paramref name="limitBytes"/>; 0 or less counts but never fails.</summary>
    public QueryMemoryBudget(long limitBytes) => LimitBytes = Math.Max(0, limitBytes);

    /// <summary>A budget without a limit, for callers that set none.</summary>
    public static QueryMemoryBudget Unlimited => new(0);

    /// <summary>The limit in bytes; 0 when unlimited.</summary>
    public long LimitBytes { get; }

    /// <summary>Bytes reserved now.</summary>
    public long ReservedBytes => Interlocked.Read(ref _reserved);

    /// <summary>Most bytes reserved at once so far.</summary>
    public long PeakBytes => Interlocked.Read(ref _peak);

    /// <summary>Reserves <paramref name="bytes"/> more.</summary>
    /// <exception cref="QueryMemoryLimitException">The query would hold more than the limit.</exception>
    public void Reserve(long bytes)
    {
        var reserved = Interlocked.Add(ref _reserved, bytes);
        var peak = Interlocked.Read(ref _peak);
        while (reserved > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peak, reserved, peak);
            if (seen == peak)
            {
                break;
            }

            peak = seen;
        }

        if (LimitBytes > 0 && reserved > LimitBytes)
        {
            // What failed is not held: the caller unwinds without releasing it.
            Interlocked.Add(ref _reserved, -bytes);
            throw new QueryMemoryLimitException(LimitBytes);
        }
    }

    /// <summary>Gives back bytes reserved earlier.</summary>
    public void Release(long bytes) => Interlocked.Add(ref _reserved, -bytes);

    /// <summary>An estimate of what a label set costs held in memory and written out: its strings and pair array.</summary>
    public static long EstimateLabels(LabelSet labels) => EstimateLabels(labels.AsSpan());

    /// <summary>The estimate of <see cref="EstimateLabels(LabelSet)"/> for a set's sorted pairs.</summary>
    public static long EstimateLabels(ReadOnlySpan<LabelPair> labels)
    {
        long bytes = ObjectOverhead;
        foreach (var pair in labels)
        {
            // UTF-16 strings plus their JSON text.
            bytes += ObjectOverhead + (3L * (pair.Name.Length + pair.Value.Length));
        }

        return bytes;
    }
}

/// <summary>A query would hold more memory than <c>max_query_memory_bytes</c> allows (answered with 400).</summary>
public sealed class QueryMemoryLimitException : Exception
{
    /// <summary>Creates the exception for a limit of <paramref name="limitBytes"/>.</summary>
    public QueryMemoryLimitException(long limitBytes)
        : base("the query would use too much memory (limit: " + FormatBytes(limitBytes) + ", max_query_memory_bytes); " +
               "consider adding more specific stream selectors, reducing the time range or the limit, or increasing the step")
        => LimitBytes = limitBytes;

    /// <summary>Creates the exception for an unknown limit.</summary>
    public QueryMemoryLimitException()
        : this(0)
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public QueryMemoryLimitException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public QueryMemoryLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The limit that was reached, in bytes.</summary>
    public long LimitBytes { get; }

    // The largest unit that divides the size exactly, as Loki's configuration prints sizes (64MB, 1GB, 1500B).
    private static string FormatBytes(long bytes)
    {
        string[] names = ["PB", "TB", "GB", "MB", "KB"];
        for (var i = 0; i < names.Length; i++)
        {
            var factor = 1L << (10 * (names.Length - i));
            if (bytes > 0 && bytes % factor == 0)
            {
                return (bytes / factor).ToString(CultureInfo.InvariantCulture) + names[i];
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture) + "B";
    }
}
