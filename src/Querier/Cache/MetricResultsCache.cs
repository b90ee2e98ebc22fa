using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.Querier.Cache;

/// <summary>
/// The results cache of metric range queries. A range query evaluates at every point of a grid
/// <c>start + k·step</c>, and each point depends only on the data in its own window, so the points of a grid can be
/// computed in any grouping and concatenated. The cache stores, per tenant, query, step and grid alignment
/// (<c>start mod step</c>), extents: runs of consecutive grid points with every series' points in them. Entries are
/// split by <c>split_queries_by_interval</c> (the grid points of one split interval form one entry, like Loki's
/// per-split extents), which bounds entry size and lets old intervals age out of the cache on their own.
/// A request reads the extents it overlaps, evaluates only the runs of grid points no extent covers plus the open
/// window after <c>now − max_cache_freshness_per_query</c>, stores the newly evaluated closed points and assembles
/// the answer exactly as one evaluation of the whole range would have produced it.
/// </summary>
/// <remarks>
/// Like Loki's, the cache trusts closed windows to stay closed: entries pushed later with timestamps older than
/// the freshness window are not reflected in extents cached before, until their entries expire. Delete requests
/// are, through <see cref="RangeQueryRequest.Generation"/>.
/// </remarks>
public sealed class MetricResultsCache
{
    private const long NanosPerMilli = 1_000_000;

    // Rough per-object overheads for the byte bound; the exact figure matters less than being proportional.
    private const long ExtentOverhead = 64;
    private const long SeriesOverhead = 48;
    private const long PointSize = 16;

    private readonly EmbeddedCache<CachedExtents> _cache;

    /// <summary>Creates the cache with Loki's <c>embedded_cache</c> bounds.</summary>
    public MetricResultsCache(EmbeddedCacheLimits limits, IEmbeddedCacheObserver? observer = null, TimeProvider? time = null) =>
        _cache = new EmbeddedCache<CachedExtents>(limits, static value => value.Bytes, observer, time);

    /// <summary>Whether a query's answers are cached: literals and <c>vector()</c> read no data and are not.</summary>
    public static bool Caches(SampleExpr expr) => expr is not (LiteralExpr or VectorExpr);

    /// <summary>Loki's codec: a request whose <c>Cache-Control</c> is exactly <c>no-cache</c> neither reads nor writes the cache.</summary>
    public static bool BypassedBy(string cacheControl) => string.Equals(cacheControl.Trim(), "no-cache", StringComparison.OrdinalIgnoreCase);

    /// <summary>Entries held.</summary>
    public int Count => _cache.Count;

    /// <summary>
    /// The matrix of <paramref name="request"/>, reusing cached extents and calling <paramref name="evaluate"/>
    /// (first and last evaluation time, inclusive) for the rest. What was evaluated is stored unless
    /// <paramref name="mayStore"/> says no once it is done (the evaluation skipped corrupt data: a later request
    /// must evaluate it again and warn again, not be served the incomplete points silently).
    /// </summary>
    /// <exception cref="MetricQueryException">From <paramref name="evaluate"/>, or the series limit of the assembled answer.</exception>
    public MatrixResult Evaluate(RangeQueryRequest request, Func<long, long, MatrixResult> evaluate, CacheStatistics statistics,
        Func<bool>? mayStore = null)
    {
        var step = request.StepNs;
        var start = request.StartNs;
        var closedLimit = request.NowNs - Math.Max(0, request.FreshnessNs);

        // Points are reported in milliseconds; a grid whose points do not fall on distinct milliseconds two or more
        // apart cannot be sliced by timestamp. Like Loki, a request that starts inside the freshness window is not cached.
        if (step % NanosPerMilli != 0 || step < 2 * NanosPerMilli || start < 0 || start > closedLimit)
        {
            return evaluate(start, request.EndNs);
        }

        var grid = new Grid(start, step, request.SplitNs);
        var closedEnd = grid.LastAtOrBefore(Math.Min(request.EndNs, closedLimit));
        var keyPrefix = request.KeyPrefix;

        var pieces = new List<CachedExtent>();
        for (var bucket = grid.Bucket(start); bucket <= grid.Bucket(closedEnd); bucket++)
        {
            statistics.EntriesRequested++;
            statistics.Requests++;
            if (!_cache.TryGet(RangeQueryRequest.Key(keyPrefix, bucket, request.Query), out var entry))
            {
                continue;
            }

            statistics.EntriesFound++;
            statistics.BytesReceived += entry!.Bytes;
            foreach (var extent in entry.Extents)
            {
                var from = Math.Max(start, extent.StartNs);
                var through = Math.Min(closedEnd, extent.EndNs);
                if (from <= through)
                {
                    pieces.Add(extent.Slice(from, through));
                    statistics.QueryLengthServed += through - from + step;
                }
            }
        }

        // The runs of grid points no cached extent covers; the last one runs to the requested end.
        var computed = new List<CachedExtent>();
        var next = start;
        var cachedCount = pieces.Count;
        for (var i = 0; i < cachedCount; i++)
        {
            if (pieces[i].StartNs > next)
            {
                computed.Add(Compute(next, pieces[i].StartNs - step));
            }

            next = pieces[i].EndNs + step;
        }

        if (next <= request.EndNs)
        {
            computed.Add(Compute(next, request.EndNs));
        }

        if (mayStore?.Invoke() != false && computed.TrueForAll(extent => extent.OnGrid(grid)))
        {
            foreach (var extent in computed)
            {
                Store(extent, grid, closedEnd, keyPrefix, request.Query, statistics);
            }
        }

        if (cachedCount == 0 && computed.Count == 1)
        {
            return computed[0].Result!;
        }

        pieces.AddRange(computed);
        pieces.Sort(static (a, b) => a.StartNs.CompareTo(b.StartNs));
        return Assemble(pieces, request.MaxQuerySeries);

        CachedExtent Compute(long from, long through)
        {
            var result = evaluate(from, through);
            var series = new CachedSeries[result.Series.Count];
            for (var i = 0; i < series.Length; i++)
            {
                var points = result.Series[i].Points;
                series[i] = new CachedSeries(result.Series[i].Labels, points as MetricPoint[] ?? [.. points]);
            }

            return new CachedExtent(from, through, series) { Result = result };
        }
    }

    private void Store(CachedExtent computed, Grid grid, long closedEnd, string keyPrefix, string query, CacheStatistics statistics)
    {
        var through = Math.Min(grid.LastAtOrBefore(computed.EndNs), closedEnd);
        if (computed.StartNs > through)
        {
            return;
        }

        for (var bucket = grid.Bucket(computed.StartNs); bucket <= grid.Bucket(through); bucket++)
        {
            var from = Math.Max(computed.StartNs, grid.FirstOfBucket(bucket));
            var to = Math.Min(through, grid.LastOfBucket(bucket));
            var slice = computed.Slice(from, to);
            statistics.EntriesStored++;
            statistics.Requests++;
            statistics.BytesSent += slice.Bytes;
            _cache.Update(RangeQueryRequest.Key(keyPrefix, bucket, query), current => CachedExtents.With(current, slice, grid.Step));
        }
    }

    // Series in label order with their pieces' points concatenated in time order, as one evaluation returns them.
    private static MatrixResult Assemble(List<CachedExtent> pieces, int maxSeries)
    {
        var bySeries = new Dictionary<LabelSet, List<MetricPoint>>();
        foreach (var piece in pieces)
        {
            foreach (var series in piece.Series)
            {
                if (!bySeries.TryGetValue(series.Labels, out var points))
                {
                    if (maxSeries > 0 && bySeries.Count >= maxSeries)
                    {
                        throw MetricQueryException.SeriesLimit(maxSeries);
                    }

                    bySeries[series.Labels] = points = new List<MetricPoint>(series.Points.Length);
                }

                points.AddRange(series.Points);
            }
        }

        var result = new List<MetricSeries>(bySeries.Count);
        foreach (var (labels, points) in bySeries)
        {
            result.Add(new MetricSeries(labels, points));
        }

        result.Sort(static (a, b) => LabelOrder.Instance.Compare(a.Labels, b.Labels));
        return new MatrixResult(result);
    }

    /// <summary>The evaluation grid of a request and the split intervals its points fall in.</summary>
    private readonly record struct Grid(long Start, long Step, long Split)
    {
        private long Alignment => Start % Step;

        public long StartMs => Start / NanosPerMilli;

        public long StepMs => Step / NanosPerMilli;

        public long LastAtOrBefore(long time) => time - Mod(time - Alignment, Step);

        public long FirstAtOrAfter(long time) => time + Mod(Alignment - time, Step);

        public long Bucket(long time) => Split > 0 ? time / Split : 0;

        public long FirstOfBucket(long bucket) => Split > 0 ? FirstAtOrAfter(bucket * Split) : Start;

        public long LastOfBucket(long bucket) => Split > 0 ? LastAtOrBefore(((bucket + 1) * Split) - 1) : long.MaxValue;

        private static long Mod(long value, long modulus) => ((value % modulus) + modulus) % modulus;
    }

    /// <summary>One series' points inside an extent.</summary>
    private sealed record CachedSeries(LabelSet Labels, MetricPoint[] Points)
    {
        public long Bytes
        {
            get
            {
                var bytes = SeriesOverhead + (Points.Length * PointSize);
                foreach (var pair in Labels)
                {
                    bytes += (pair.Name.Length + pair.Value.Length) * sizeof(char) + 48;
                }

                return bytes;
            }
        }
    }

    /// <summary>The series of a run of consecutive grid points <c>[StartNs, EndNs]</c>.</summary>
    private sealed class CachedExtent(long startNs, long endNs, CachedSeries[] series)
    {
        public long StartNs { get; } = startNs;

        public long EndNs { get; } = endNs;

        public CachedSeries[] Series { get; } = series;

        /// <summary>The evaluator's own answer, for a request computed in one piece.</summary>
        public MatrixResult? Result { get; init; }

        public long Bytes
        {
            get
            {
                var bytes = ExtentOverhead;
                foreach (var s in Series)
                {
                    bytes += s.Bytes;
                }

                return bytes;
            }
        }

        /// <summary>Whether every point sits on a millisecond of the grid, which is what slicing relies on.</summary>
        public bool OnGrid(Grid grid)
        {
            foreach (var s in Series)
            {
                foreach (var point in s.Points)
                {
                    if ((point.TimestampMs - grid.StartMs) % grid.StepMs != 0)
                    {
                        return false;
                    }
                }
            }

            return true;
        }

        /// <summary>The grid points <c>[from, through]</c> of this extent; series without points there are left out.</summary>
        public CachedExtent Slice(long from, long through)
        {
            if (from == StartNs && through == EndNs)
            {
                return this;
            }

            var fromMs = from / NanosPerMilli;
            var throughMs = through / NanosPerMilli;
            var sliced = new List<CachedSeries>(Series.Length);
            foreach (var s in Series)
            {
                var first = LowerBound(s.Points, fromMs);
                var last = LowerBound(s.Points, throughMs + 1);
                if (last > first)
                {
                    sliced.Add(first == 0 && last == s.Points.Length ? s : new CachedSeries(s.Labels, s.Points[first..last]));
                }
            }

            return new CachedExtent(from, through, [.. sliced]);
        }

        /// <summary>Appends each series' points in <c>[fromMs, throughMs]</c> to its list in <paramref name="into"/>.</summary>
        public void AddPoints(Dictionary<LabelSet, List<MetricPoint>> into, long fromMs, long throughMs)
        {
            foreach (var s in Series)
            {
                var first = LowerBound(s.Points, fromMs);
                var last = throughMs == long.MaxValue ? s.Points.Length : LowerBound(s.Points, throughMs + 1);
                if (last <= first)
                {
                    continue;
                }

                if (!into.TryGetValue(s.Labels, out var points))
                {
                    into[s.Labels] = points = [];
                }

                points.AddRange(new ArraySegment<MetricPoint>(s.Points, first, last - first));
            }
        }

        private static int LowerBound(MetricPoint[] points, long timestampMs)
        {
            int lo = 0, hi = points.Length;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (points[mid].TimestampMs < timestampMs)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo;
        }
    }

    /// <summary>A cache entry: disjoint extents in time order, within one split interval of one query's grid.</summary>
    private sealed class CachedExtents(List<CachedExtent> extents)
    {
        public IReadOnlyList<CachedExtent> Extents { get; } = extents;

        public long Bytes { get; } = SumBytes(extents);

        /// <summary>
        /// <paramref name="current"/> with <paramref name="added"/> merged in: extents that overlap or touch it are
        /// joined into one, the newly computed points winning where they overlap.
        /// </summary>
        public static CachedExtents With(CachedExtents? current, CachedExtent added, long step)
        {
            var kept = new List<CachedExtent>();
            var joined = new List<CachedExtent>();
            foreach (var extent in current?.Extents ?? [])
            {
                (extent.EndNs + step < added.StartNs || extent.StartNs > added.EndNs + step ? kept : joined).Add(extent);
            }

            if (joined.Count == 0)
            {
                kept.Add(added);
            }
            else
            {
                var addedFromMs = added.StartNs / NanosPerMilli;
                var addedThroughMs = added.EndNs / NanosPerMilli;
                var bySeries = new Dictionary<LabelSet, List<MetricPoint>>();
                foreach (var extent in joined)
                {
                    extent.AddPoints(bySeries, long.MinValue, addedFromMs - 1);
                }

                added.AddPoints(bySeries, long.MinValue, long.MaxValue);
                foreach (var extent in joined)
                {
                    extent.AddPoints(bySeries, addedThroughMs + 1, long.MaxValue);
                }

                var series = new CachedSeries[bySeries.Count];
                var i = 0;
                foreach (var (labels, points) in bySeries)
                {
                    series[i++] = new CachedSeries(labels, [.. points]);
                }

                kept.Add(new CachedExtent(Math.Min(joined[0].StartNs, added.StartNs), Math.Max(joined[^1].EndNs, added.EndNs), series));
            }

            kept.Sort(static (a, b) => a.StartNs.CompareTo(b.StartNs));
            return new CachedExtents(kept);
        }

        private static long SumBytes(List<CachedExtent> extents)
        {
            var bytes = 0L;
            foreach (var extent in extents)
            {
                bytes += extent.Bytes;
            }

            return bytes;
        }
    }
}
