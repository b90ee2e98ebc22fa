using System.Buffers;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Reading;
using MatchType = LokiSharp.LogQL.Labels.MatchType;

namespace LokiSharp.Storage.Index;

/// <summary>
/// In-memory label index of one tenant and one index period: series with their fingerprints, postings from
/// label name/value to series, and each series' chunk refs. Thread-safe: many readers, one writer at a time.
/// Series ids are dense and assigned in insertion order, so postings lists stay sorted by construction.
/// </summary>
public sealed class LabelIndex : IDisposable
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<LabelSet, int> _ids = [];
    private readonly List<Series> _series = [];
    private readonly Dictionary<string, LabelValueSet> _labels = new(StringComparer.Ordinal);
    private readonly HashSet<(long, long)> _chunkKeys = [];

    /// <summary>Number of series.</summary>
    public int SeriesCount
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _series.Count;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>Number of distinct chunk refs.</summary>
    public int ChunkCount
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _chunkKeys.Count;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>Adds a chunk ref to a series (creating the series); a ref already present is ignored.</summary>
    /// <returns>Whether the series was new.</returns>
    public bool Add(LabelSet labels, in ChunkRef chunk)
    {
        _lock.EnterWriteLock();
        try
        {
            var isNew = false;
            if (!_ids.TryGetValue(labels, out var id))
            {
                id = AddSeriesLocked(labels);
                isNew = true;
            }

            if (_chunkKeys.Add(chunk.Key))
            {
                _series[id].Add(chunk);
            }

            return isNew;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Removes the chunk refs with the given keys from every series.</summary>
    /// <returns>The removed refs.</returns>
    public List<ChunkRef> RemoveChunks(IReadOnlySet<(long PackId, long Offset)> keys)
    {
        var removed = new List<ChunkRef>();
        _lock.EnterWriteLock();
        try
        {
            foreach (var s in _series)
            {
                if (s.Chunks.RemoveAll(c =>
                {
                    if (!keys.Contains(c.Key))
                    {
                        return false;
                    }

                    removed.Add(c);
                    return true;
                }) > 0)
                {
                    // A reader's summary of the list is dropped only when the list changed.
                    s.Summary = null;
                }
            }

            foreach (var c in removed)
            {
                _chunkKeys.Remove(c.Key);
            }

            return removed;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Whether a chunk ref with this key is listed.</summary>
    public bool ContainsChunk((long PackId, long Offset) key)
    {
        _lock.EnterReadLock();
        try
        {
            return _chunkKeys.Contains(key);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Whether the series is known.</summary>
    public bool Contains(LabelSet labels)
    {
        _lock.EnterReadLock();
        try
        {
            return _ids.ContainsKey(labels);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Every series and its chunks, in id order (for sealing the period to a file).</summary>
    public List<(LabelSet Labels, ChunkRef[] Chunks)> Snapshot()
    {
        _lock.EnterReadLock();
        try
        {
            var result = new List<(LabelSet, ChunkRef[])>(_series.Count);
            foreach (var s in _series)
            {
                result.Add((s.Labels, [.. s.Chunks]));
            }

            return result;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>
    /// Series matching every matcher with a chunk overlapping <c>[from, through)</c>, in id order. A matcher
    /// that accepts the empty value also selects series lacking the label, as in Prometheus.
    /// </summary>
    public void Select(IReadOnlyList<LabelMatcher> matchers, long from, long through, List<SelectedStream> output)
    {
        _lock.EnterReadLock();
        try
        {
            var ids = new List<int>();
            MatchLocked(matchers, ids);
            foreach (var id in ids)
            {
                var s = _series[id];
                if (s.Overlaps(from, through))
                {
                    output.Add(new SelectedStream(s.Labels, s.Fingerprint));
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Appends the chunk refs of <paramref name="labels"/> overlapping <c>[from, through)</c>.</summary>
    public void ChunksOf(LabelSet labels, long from, long through, List<ChunkRef> output)
    {
        _lock.EnterReadLock();
        try
        {
            if (_ids.TryGetValue(labels, out var id))
            {
                // Sized once: a search over every stream collects every chunk, and growing by doubling copied each list twice.
                var chunks = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_series[id].Chunks);
                output.EnsureCapacity(output.Count + chunks.Length);
                foreach (ref readonly var c in chunks)
                {
                    if (c.Overlaps(from, through))
                    {
                        output.Add(c);
                    }
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>
    /// The summary a reader keeps of the chunk list of <paramref name="labels"/>' series: <paramref name="summarize"/> gets the
    /// list and the summary kept so far (null when none, or when the list changed since it was made) and returns the one to
    /// keep. Null when the series is unknown. Lets a search judge a stream without copying its chunk list each time.
    /// </summary>
    public T? SummaryOf<T>(LabelSet labels, SeriesSummarizer<T> summarize)
        where T : class
    {
        _lock.EnterReadLock();
        try
        {
            if (!_ids.TryGetValue(labels, out var id))
            {
                return null;
            }

            // Readers may race to replace a stale summary: each made its own from the same list, so either may stay.
            var series = _series[id];
            var kept = Volatile.Read(ref series.Summary) as T;
            var summary = summarize(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(series.Chunks), kept);
            if (!ReferenceEquals(summary, kept))
            {
                Volatile.Write(ref series.Summary, summary);
            }

            return summary;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Label names of series matching <paramref name="matchers"/> (all series when empty) in range.</summary>
    public void LabelNames(IReadOnlyList<LabelMatcher> matchers, long from, long through, HashSet<string> output)
    {
        _lock.EnterReadLock();
        try
        {
            if (matchers.Count == 0 && CoversAllLocked(from, through))
            {
                foreach (var name in _labels.Keys)
                {
                    output.Add(name);
                }

                return;
            }

            var ids = new List<int>();
            MatchLocked(matchers, ids);
            foreach (var id in ids)
            {
                var s = _series[id];
                if (s.Overlaps(from, through))
                {
                    foreach (var pair in s.Labels.AsSpan())
                    {
                        output.Add(pair.Name);
                    }
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Values of label <paramref name="name"/> among series matching <paramref name="matchers"/> in range.</summary>
    public void LabelValues(string name, IReadOnlyList<LabelMatcher> matchers, long from, long through,
        HashSet<string> output)
    {
        _lock.EnterReadLock();
        try
        {
            if (!_labels.TryGetValue(name, out var values))
            {
                return;
            }

            if (matchers.Count == 0 && CoversAllLocked(from, through))
            {
                foreach (var value in values.Values)
                {
                    output.Add(value);
                }

                return;
            }

            var ids = new List<int>();
            MatchLocked(matchers, ids);
            foreach (var id in ids)
            {
                var s = _series[id];
                var value = s.Labels.Get(name);
                if (value is not null && s.Overlaps(from, through))
                {
                    output.Add(value);
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>
    /// Calls <paramref name="visit"/> for every chunk of every matching series that overlaps the range, with
    /// the series' labels; used for stats and volume, which deduplicate across periods.
    /// </summary>
    public void VisitChunks(IReadOnlyList<LabelMatcher> matchers, long from, long through,
        Action<LabelSet, ChunkRef> visit)
    {
        _lock.EnterReadLock();
        try
        {
            var ids = new List<int>();
            MatchLocked(matchers, ids);
            foreach (var id in ids)
            {
                var s = _series[id];
                foreach (var c in s.Chunks)
                {
                    if (c.Overlaps(from, through))
                    {
                        visit(s.Labels, c);
                    }
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _lock.Dispose();

    private bool CoversAllLocked(long from, long through)
    {
        foreach (var s in _series)
        {
            if (!s.Overlaps(from, through))
            {
                return false;
            }
        }

        return true;
    }

    private int AddSeriesLocked(LabelSet labels)
    {
        var id = _series.Count;
        _series.Add(new Series(labels, Fingerprint.Of(labels)));
        _ids.Add(labels, id);
        foreach (var pair in labels.AsSpan())
        {
            if (!_labels.TryGetValue(pair.Name, out var values))
            {
                _labels.Add(pair.Name, values = new LabelValueSet());
            }

            values.Add(pair.Value, id);
        }

        return id;
    }

    private void MatchLocked(IReadOnlyList<LabelMatcher> matchers, List<int> output)
    {
        var count = _series.Count;
        if (count == 0)
        {
            return;
        }

        // Fast path: one equality matcher is just its postings list.
        if (matchers.Count == 1 && matchers[0].Type == MatchType.Equal && matchers[0].Value.Length > 0)
        {
            if (_labels.TryGetValue(matchers[0].Name, out var only))
            {
                output.AddRange(only.Postings(matchers[0].Value));
            }

            return;
        }

        using var result = new SeriesBitmap(count, allSet: true);
        using var scratch = new SeriesBitmap(count, allSet: false);

        // Selective (non-empty-matching) matchers first so their result bounds the rest.
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var m in matchers)
            {
                var matchesEmpty = m.MatchesEmpty;
                if (matchesEmpty != (pass == 1))
                {
                    continue;
                }

                scratch.Clear();
                if (_labels.TryGetValue(m.Name, out var values))
                {
                    // Non-empty-matching: keep series whose value matches. Empty-matching: drop series whose
                    // value does not (series lacking the label stay, as in Prometheus).
                    SetValuesWhere(m, values, wanted: !matchesEmpty, scratch);
                }

                if (matchesEmpty)
                {
                    result.AndNot(scratch);
                }
                else
                {
                    result.And(scratch);
                }
            }
        }

        result.CollectInto(output);
    }

    /// <summary>
    /// Sets the postings of every value for which <c>m.Matches(value) == wanted</c>. Uses the matcher's shape
    /// to avoid testing every value: equality is a lookup, literal alternations are lookups, <c>.*</c> and
    /// <c>.+</c> take everything, <c>.*literal.*</c> is a substring scan, a literal prefix narrows the
    /// ordered values to a range, and a required literal narrows a scan to the values containing it.
    /// </summary>
    private static void SetValuesWhere(LabelMatcher m, LabelValueSet values, bool wanted, SeriesBitmap target)
    {
        switch (m.Type)
        {
            case MatchType.Equal when wanted:
            case MatchType.NotEqual when !wanted:
                target.SetAll(values.Postings(m.Value));
                return;
            case MatchType.Equal:
            case MatchType.NotEqual:
                // "=" rejecting or "!=" accepting values: everything but one value.
                for (var id = 0; id < values.Count; id++)
                {
                    if (!values.SpanAt(id).SequenceEqual(m.Value))
                    {
                        target.SetAll(values.PostingsAt(id));
                    }
                }

                return;
        }

        // From here on: regex matchers; "regexWanted" is whether the regex itself must match.
        var regexWanted = wanted == (m.Type == MatchType.Regex);
        var shape = RegexShape.Of(m.Value);
        if (regexWanted)
        {
            switch (shape.Kind)
            {
                case RegexShapeKind.Literals:
                    foreach (var literal in shape.Literals!)
                    {
                        target.SetAll(values.Postings(literal));
                    }

                    return;
                case RegexShapeKind.Anything:
                    for (var id = 0; id < values.Count; id++)
                    {
                        if (shape.AllowsEmpty || !values.SpanAt(id).IsEmpty)
                        {
                            target.SetAll(values.PostingsAt(id));
                        }
                    }

                    return;
                case RegexShapeKind.Contains:
                    values.ForEachContaining(shape.Literals![0], (values, target), static (s, id) => s.target.SetAll(s.values.PostingsAt(id)));
                    return;
            }

            if (!string.IsNullOrEmpty(shape.Prefix))
            {
                var prefix = shape.Prefix;
                var first = values.LowerBound(prefix);
                for (var rank = first; rank < values.Count; rank++)
                {
                    var id = values.IdAtRank(rank);
                    var text = values.SpanAt(id);
                    if (!text.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        break;
                    }

                    if (RegexMatches(m, values, id))
                    {
                        target.SetAll(values.PostingsAt(id));
                    }
                }

                return;
            }
        }

        if (shape.Kind == RegexShapeKind.Contains)
        {
            // Every value but those containing the literal: mark the hits, then take the rest.
            var hits = new bool[values.Count];
            values.ForEachContaining(shape.Literals![0], hits, static (h, id) => h[id] = true);
            for (var id = 0; id < hits.Length; id++)
            {
                if (!hits[id])
                {
                    target.SetAll(values.PostingsAt(id));
                }
            }

            return;
        }

        var required = shape.Kind == RegexShapeKind.General ? RegexShape.RequiredLiteral(m.Value) : null;
        if (required is { Length: >= MinNarrowingLiteral })
        {
            // Only values containing the literal can match: one buffer scan finds them, the regex runs on those.
            var matches = ArrayPool<bool>.Shared.Rent(values.Count);
            try
            {
                matches.AsSpan(0, values.Count).Clear();
                values.ForEachContaining(required, (m, values, matches),
                    static (s, id) => s.matches[id] = RegexMatches(s.m, s.values, id));
                for (var id = 0; id < values.Count; id++)
                {
                    if (matches[id] == regexWanted)
                    {
                        target.SetAll(values.PostingsAt(id));
                    }
                }
            }
            finally
            {
                ArrayPool<bool>.Shared.Return(matches);
            }

            return;
        }

        for (var id = 0; id < values.Count; id++)
        {
            if (RegexMatches(m, values, id) == regexWanted)
            {
                target.SetAll(values.PostingsAt(id));
            }
        }
    }

    // Shorter required literals (such as "d-" or "_") occur in most values: locating each hit would cost more
    // than the regex it saves.
    private const int MinNarrowingLiteral = 3;

    /// <summary>
    /// Whether the matcher's regex itself (ignoring the negation of <c>!~</c>) matches a value. The matcher's regex
    /// runs on .NET's linear-time engine, so a hostile pattern cannot be made slow by the values it meets.
    /// </summary>
    private static bool RegexMatches(LabelMatcher m, LabelValueSet values, int id) =>
        m.Matches(values.SpanAt(id)) != (m.Type == MatchType.NotRegex);

    private sealed class Series(LabelSet labels, ulong fingerprint)
    {
        // Bounds over all chunks, so most out-of-range series are rejected without walking their chunks.
        private long _min = long.MaxValue;
        private long _max = long.MinValue;

        public LabelSet Labels { get; } = labels;

        public ulong Fingerprint { get; } = fingerprint;

        // A reader's summary of Chunks (see SummaryOf), dropped whenever the list changes.
        public object? Summary;

        public List<ChunkRef> Chunks { get; } = [];

        public void Add(in ChunkRef chunk)
        {
            Summary = null;
            Chunks.Add(chunk);
            _min = Math.Min(_min, chunk.From);
            _max = Math.Max(_max, chunk.Through);
        }

        public bool Overlaps(long from, long through)
        {
            if (_min >= through || _max < from)
            {
                return false;
            }

            foreach (var c in Chunks)
            {
                if (c.Overlaps(from, through))
                {
                    return true;
                }
            }

            return false;
        }
    }
}

/// <summary>
/// Makes a reader's summary of a series' chunk list (<see cref="LabelIndex.SummaryOf{T}"/>), or returns
/// <paramref name="kept"/>, the one made before, when it still holds.
/// </summary>
public delegate T SeriesSummarizer<T>(ReadOnlySpan<ChunkRef> chunks, T? kept)
    where T : class;
