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
    private readonly Dictionary<string, Dictionary<string, List<int>>> _postings = new(StringComparer.Ordinal);

    // Each label's values in ordinal order, so regexes with a literal prefix only test the values in range.
    private readonly Dictionary<string, List<string>> _sortedValues = new(StringComparer.Ordinal);
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
                foreach (var c in _series[id].Chunks)
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

    /// <summary>Label names of series matching <paramref name="matchers"/> (all series when empty) in range.</summary>
    public void LabelNames(IReadOnlyList<LabelMatcher> matchers, long from, long through, HashSet<string> output)
    {
        _lock.EnterReadLock();
        try
        {
            if (matchers.Count == 0 && CoversAllLocked(from, through))
            {
                foreach (var name in _postings.Keys)
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
            if (!_postings.TryGetValue(name, out var values))
            {
                return;
            }

            if (matchers.Count == 0 && CoversAllLocked(from, through))
            {
                foreach (var value in values.Keys)
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
            if (!_postings.TryGetValue(pair.Name, out var values))
            {
                values = new Dictionary<string, List<int>>(StringComparer.Ordinal);
                _postings.Add(pair.Name, values);
            }

            if (!values.TryGetValue(pair.Value, out var list))
            {
                list = [];
                values.Add(pair.Value, list);
                if (!_sortedValues.TryGetValue(pair.Name, out var sorted))
                {
                    _sortedValues.Add(pair.Name, sorted = []);
                }

                var at = sorted.BinarySearch(pair.Value, StringComparer.Ordinal);
                sorted.Insert(~at, pair.Value);
            }

            list.Add(id);
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
            if (_postings.TryGetValue(matchers[0].Name, out var values) &&
                values.TryGetValue(matchers[0].Value, out var list))
            {
                output.AddRange(list);
            }

            return;
        }

        using var result = new SeriesBitmap(count, allSet: true);
        using var scratch = new SeriesBitmap(count, allSet: false);

        // Selective (non-empty-matching) matchers first so an empty result stops early.
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
                _postings.TryGetValue(m.Name, out var values);
                if (!matchesEmpty)
                {
                    // Series holding the label with a matching value.
                    if (values is not null)
                    {
                        if (m.Type == MatchType.Equal)
                        {
                            if (values.TryGetValue(m.Value, out var list))
                            {
                                scratch.SetAll(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
                            }
                        }
                        else if (m.Type == MatchType.Regex)
                        {
                            SetRegexMatches(m, values, scratch);
                        }
                        else
                        {
                            var compiled = CompiledFor(m, values.Count);
                            foreach (var (value, list) in values)
                            {
                                if (Matches(m, compiled, value))
                                {
                                    scratch.SetAll(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
                                }
                            }
                        }
                    }

                    result.And(scratch);
                }
                else
                {
                    // Everything except series holding the label with a value the matcher rejects.
                    if (values is not null)
                    {
                        if (m.Type == MatchType.NotEqual)
                        {
                            if (values.TryGetValue(m.Value, out var list))
                            {
                                scratch.SetAll(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
                            }
                        }
                        else if (m.Type == MatchType.NotRegex)
                        {
                            // The series to drop are those whose value the regex itself matches.
                            SetRegexMatches(m, values, scratch);
                        }
                        else
                        {
                            var compiled = CompiledFor(m, values.Count);
                            foreach (var (value, list) in values)
                            {
                                if (!Matches(m, compiled, value))
                                {
                                    scratch.SetAll(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
                                }
                            }
                        }
                    }

                    result.AndNot(scratch);
                }
            }
        }

        result.CollectInto(output);
    }

    /// <summary>
    /// Sets the postings of every value the matcher's regular expression (ignoring the negation of
    /// <c>!~</c>) matches, using the shape of the expression to avoid testing every value: literal
    /// alternations are looked up, <c>.*</c>/<c>.+</c> take all values, and a literal prefix narrows the
    /// sorted values to a range, and <c>.*literal.*</c> is a substring test.
    /// </summary>
    private void SetRegexMatches(LabelMatcher m, Dictionary<string, List<int>> values, SeriesBitmap target)
    {
        var negated = m.Type == MatchType.NotRegex;
        var shape = RegexShape.Of(m.Value);
        switch (shape.Kind)
        {
            case RegexShapeKind.Literals:
                foreach (var literal in shape.Literals!)
                {
                    if (values.TryGetValue(literal, out var list))
                    {
                        target.SetAll(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
                    }
                }

                return;
            case RegexShapeKind.Contains:
                var needle = shape.Literals![0];
                foreach (var (value, list) in values)
                {
                    if (value.Contains(needle, StringComparison.Ordinal))
                    {
                        target.SetAll(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
                    }
                }

                return;
            case RegexShapeKind.Anything:
                foreach (var (value, list) in values)
                {
                    if (shape.AllowsEmpty || value.Length > 0)
                    {
                        target.SetAll(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
                    }
                }

                return;
        }

        var sorted = _sortedValues[m.Name];
        var start = 0;
        var prefix = shape.Prefix ?? string.Empty;
        if (prefix.Length > 0)
        {
            start = sorted.BinarySearch(prefix, StringComparer.Ordinal);
            if (start < 0)
            {
                start = ~start;
            }
        }

        var compiled = sorted.Count - start >= CompiledRegexes.MinValues ? CompiledRegexes.Get(m.Value) : null;
        for (var i = start; i < sorted.Count; i++)
        {
            var value = sorted[i];
            if (!value.StartsWith(prefix, StringComparison.Ordinal))
            {
                break;
            }

            if (compiled?.IsMatch(value) ?? (m.Matches(value) != negated))
            {
                target.SetAll(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values[value]));
            }
        }
    }

    private static System.Text.RegularExpressions.Regex? CompiledFor(LabelMatcher m, int values) =>
        m.Type is MatchType.Regex or MatchType.NotRegex && values >= CompiledRegexes.MinValues
            ? CompiledRegexes.Get(m.Value)
            : null;

    private static bool Matches(LabelMatcher m, System.Text.RegularExpressions.Regex? compiled, string value) =>
        compiled is null ? m.Matches(value) : compiled.IsMatch(value) != (m.Type == MatchType.NotRegex);

    private sealed class Series(LabelSet labels, ulong fingerprint)
    {
        public LabelSet Labels { get; } = labels;

        public ulong Fingerprint { get; } = fingerprint;

        public List<ChunkRef> Chunks { get; } = [];

        private long _min = long.MaxValue;
        private long _max = long.MinValue;

        public void Add(in ChunkRef chunk)
        {
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
