using System.Runtime.CompilerServices;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <content>
/// A slice's series gathered for the steps, and their order.
/// </content>
internal sealed partial class RangeVectorEvaluator
{
    /// <summary>
    /// The series of one slice with their samples (or runs) gathered into contiguous ranges. Its per-series arrays
    /// come from the shared pool (so they may be longer than <see cref="Count"/>) and go back with the slice: when
    /// every line is its own series they are large, and allocating them anew for each slice churned the large object
    /// heap, which triggered a background collection of the whole heap every few slices.
    /// </summary>
    private sealed class SliceSeries
    {
        public static SliceSeries Empty { get; } = new();

        // Beyond this many ascending runs the keys are sorted whole rather than merged.
        private const int MaxMergedRuns = 4096;

        /// <summary>How many series the slice holds (the arrays below may be longer).</summary>
        public int Count { get; private set; }

        public LabelSet[] Labels { get; private set; } = [];

        public int[] FirstStep { get; private set; } = [];

        public int[] EndStep { get; private set; } = [];

        /// <summary>
        /// The series ids in the order they become active at the steps: each time a run of non-empty windows begins, by the
        /// run's first step, first step and sample of the run in the query (a run carried from an earlier slice began
        /// there), then labels. A series that pauses within the slice appears once per run.
        /// </summary>
        public int[] Activations { get; private set; } = [];

        /// <summary>The step at which each of <see cref="Activations"/> becomes active.</summary>
        public int[] ActivationStep { get; private set; } = [];

        public int ActivationCount { get; private set; }

        public long[] Timestamps { get; private set; } = [];

        public double[] Values { get; private set; } = [];

        private QueryMemoryBudget? _memory;
        private ArrayShelf? _shelf;
        private long _reserved;
        // The logs the slice is gathered from, and where each series' full labels lie in them: only while it is built, as
        // the logs are emptied once it is.
        private SliceLog[] _logs = [];
        private int[] _keyLog = [];
        private int[] _keyLocal = [];
        private int[] _start = [];
        private Run[] _byFirst = [];
        private Run[] _byEnd = [];
        private int[] _cursorA = [];
        private int[] _cursorB = [];
        private long[] _counts = [];

        /// <summary>How many samples lie in the window of <paramref name="step"/>; steps must be asked in order.</summary>
        public long CountAt(int id, int step)
        {
            var end = _start[id + 1];
            ref var nextFirst = ref _cursorA[id];
            ref var nextEnd = ref _cursorB[id];
            ref var count = ref _counts[id];
            while (nextFirst < end && _byFirst[nextFirst].FirstStep <= step)
            {
                count += _byFirst[nextFirst++].Count;
            }

            while (nextEnd < end && _byEnd[nextEnd].EndStep <= step)
            {
                count -= _byEnd[nextEnd++].Count;
            }

            return count;
        }

        /// <summary>The sample index range inside <c>(low, high]</c>; windows must be asked in time order.</summary>
        public (int From, int To) WindowAt(int id, long low, long high)
        {
            var end = _start[id + 1];
            ref var from = ref _cursorA[id];
            ref var to = ref _cursorB[id];
            while (to < end && Timestamps[to] <= high)
            {
                to++;
            }

            while (from < to && Timestamps[from] <= low)
            {
                from++;
            }

            return (from, to);
        }

        /// <summary>The first step and first sample of each series' last run of non-empty windows, from the slice where it began.</summary>
        public (int Step, long Timestamp)[] Origin { get; private set; } = [];

        /// <summary>Whether some series carries an error that fails the query (checked per series, not per step).</summary>
        public bool AnyFails { get; private set; }

        /// <summary>
        /// Gathers the series the workers' <paramref name="logs"/> met in the slice whose windows are <paramref name="cells"/>.
        /// <paramref name="origins"/> tells where the runs of non-empty windows at the previous slice's last step began, and
        /// then where those at this slice's last step did (nothing when <paramref name="last"/>, the query's last slice).
        /// </summary>
        public static SliceSeries Build(SliceLog[] logs, bool countOnly, int seriesLimit, QueryMemoryBudget? memory,
            OriginTable origins, ArrayShelf shelf, LabelProjection? projection, WindowCells cells, bool last)
        {
            // Number the series across workers, in worker order then first sight. Sized for the workers' series up
            // front: with many series, growing by doubling would leave a trail of large arrays behind each slice.
            var seen = 0;
            foreach (var log in logs)
            {
                seen += log.SeriesCount;
            }

            // A series met by an earlier worker is found in that worker's own table, so no table of all series is built.
            var labels = shelf.Take<LabelSet>(seen);
            var keyLog = shelf.Take<int>(seen);
            var keyLocal = shelf.Take<int>(seen);
            var localToGlobal = new int[logs.Length][];
            SliceSeries? result = null;
            try
            {
                var n = 0;
                var total = 0;
                for (var w = 0; w < logs.Length; w++)
                {
                    var log = logs[w];
                    var map = localToGlobal[w] = shelf.Take<int>(log.SeriesCount);
                    for (var i = 0; i < log.SeriesCount; i++)
                    {
                        var key = log.SeriesKey(i);
                        var hash = log.SeriesHash(i);
                        var id = -1;
                        for (var v = 0; v < w && id < 0; v++)
                        {
                            if (logs[v].TryGetSeries(key, hash, out var local))
                            {
                                id = localToGlobal[v][local];
                            }
                        }

                        if (id < 0)
                        {
                            id = n;
                            if (seriesLimit > 0 && id >= seriesLimit)
                            {
                                throw MetricQueryException.SeriesLimit(seriesLimit);
                            }

                            keyLog[n] = w;
                            keyLocal[n++] = i;
                        }

                        map[i] = id;
                    }

                    total += log.RecordCount;
                }

                // The gathered columns (two of runs, or timestamps and values), the ranks and merge keys built on the way,
                // and the per-series arrays. Held until the slice is released.
                var reserved = (total * (countOnly ? 2L * Unsafe.SizeOf<Run>() : 16L + 4L)) + (n * 64L);
                memory?.Reserve(reserved);
                try
                {
                    result = new SliceSeries
                    {
                        _memory = memory,
                        _shelf = shelf,
                        _reserved = reserved,
                        _logs = logs,
                        _keyLog = keyLog,
                        _keyLocal = keyLocal,
                        Count = n,
                        Labels = labels,
                        FirstStep = shelf.Take<int>(n),
                        EndStep = shelf.Take<int>(n),
                        _start = shelf.Take<int>(n + 1),
                        _cursorA = shelf.Take<int>(n),
                        _cursorB = shelf.Take<int>(n),
                        _counts = countOnly ? shelf.Take<long>(n) : [],
                        Origin = shelf.Take<(int Step, long Timestamp)>(n),
                    };
                }
                catch
                {
                    // Out of memory before the result holds the reservation: nothing else would give it back.
                    memory?.Release(reserved);
                    throw;
                }

                result.Fill(logs, localToGlobal, origins, countOnly, total, cells);
                result.NameSeries(projection);
                result.KeepOrigins(origins, cells, last);

                // The series' pairs go with the logs: nothing reads them past this point.
                result._logs = [];
                shelf.Put(result._keyLog);
                shelf.Put(result._keyLocal);
                result._keyLog = result._keyLocal = [];
                return result;
            }
            catch
            {
                // The labels and key places are the result's once it exists; its release gives them back.
                if (result is null)
                {
                    shelf.Put(labels);
                    shelf.Put(keyLog);
                    shelf.Put(keyLocal);
                }
                else
                {
                    result.Release();
                }

                throw;
            }
            finally
            {
                foreach (var map in localToGlobal)
                {
                    shelf.Put(map ?? []);
                }
            }
        }

        /// <summary>The sorted pairs of series <paramref name="id"/>'s labels, while the slice is built.</summary>
        private ReadOnlySpan<LabelPair> KeyOf(int id) => _logs[_keyLog[id]].SeriesKey(_keyLocal[id]);

        /// <summary>The hash of series <paramref name="id"/>'s labels, while the slice is built.</summary>
        private int HashOf(int id) => _logs[_keyLog[id]].SeriesHash(_keyLocal[id]);

        /// <summary>
        /// Replaces <paramref name="origins"/> with where the runs of non-empty windows in this slice's last step began (in
        /// this slice or an earlier one): the runs that go on into the next slice's first step keep their place there, as in
        /// one slice. No other series is remembered: one that pauses starts a new run when it comes back, wherever the
        /// slices end.
        /// </summary>
        private void KeepOrigins(OriginTable origins, WindowCells cells, bool last)
        {
            origins.Clear();
            if (last)
            {
                return;
            }

            for (var id = 0; id < Count; id++)
            {
                // A series' windows end at the slice's end only when its last step's window holds a sample.
                if (EndStep[id] >= cells.SliceEnd)
                {
                    origins.Add(KeyOf(id), HashOf(id), Origin[id]);
                }
            }
        }

        /// <summary>
        /// Gives each series the labels the steps hand on: projected when the aggregation above reads only some, unless a
        /// series fails the query (its error names the whole series); else the series' own.
        /// </summary>
        private void NameSeries(LabelProjection? projection)
        {
            for (var id = 0; id < Count; id++)
            {
                Labels[id] = projection is null || AnyFails ? _logs[_keyLog[id]].SeriesLabels(_keyLocal[id]) : projection.Of(KeyOf(id));
            }
        }

        private void Fill(SliceLog[] logs, int[][] localToGlobal, OriginTable origins, bool countOnly, int total, WindowCells cells)
        {
            var n = Count;
            var shelf = _shelf!;
            var firstTimestamp = shelf.Take<long>(n);
            var segments = shelf.Take<int>(n);
            var keys = Array.Empty<SeriesOrderKey>();
            var activationSeries = Array.Empty<int>();
            try
            {
                FirstStep.AsSpan(0, n).Fill(int.MaxValue);
                EndStep.AsSpan(0, n).Clear();
                _start.AsSpan(0, n + 1).Clear();
                _counts.AsSpan(0, countOnly ? n : 0).Clear();
                firstTimestamp.AsSpan(0, n).Fill(long.MaxValue);
                segments.AsSpan(0, n).Clear();
                for (var w = 0; w < logs.Length; w++)
                {
                    var log = logs[w];
                    var map = localToGlobal[w];
                    for (var i = 0; i < log.SeriesCount; i++)
                    {
                        var id = map[i];
                        FirstStep[id] = Math.Min(FirstStep[id], log.SeriesFirstStep[i]);
                        EndStep[id] = Math.Max(EndStep[id], log.SeriesEndStep[i]);
                        firstTimestamp[id] = Math.Min(firstTimestamp[id], log.SeriesFirstTimestamp[i]);
                    }

                    for (var s = 0; s < log.SegmentSeries.Count; s++)
                    {
                        segments[map[log.SegmentSeries[s]]]++;
                    }

                    for (var r = 0; r < log.RecordCount; r++)
                    {
                        _start[map[log.SegmentSeries[log.RecordSegment[r]]] + 1]++;
                    }
                }

                for (var i = 0; i < n; i++)
                {
                    _start[i + 1] += _start[i];
                }

                RankSharedSegments(logs, localToGlobal, segments, n);
                Gather(logs, localToGlobal, segments, n, total, countOnly);

                // Deterministic whatever the load order and slicing: a step's samples come in the order their series' current
                // runs of non-empty windows began (step, then first sample), then labels. A run that goes on from the previous
                // slice's last step into this one's first began where the previous slice said; any other run begins here.
                // Only runs are remembered across slices, never series that paused, so nothing is forgotten.
                var firstStep = FirstStep;
                var origin = Origin;
                var resumes = FindResumes(cells, countOnly);
                var events = n + resumes.Count;
                keys = shelf.Take<SeriesOrderKey>(events);
                activationSeries = shelf.Take<int>(events);
                for (var i = 0; i < n; i++)
                {
                    var key = KeyOf(i);
                    AnyFails |= ErrorLabels.FailsQuery(key);
                    if (firstStep[i] == cells.SliceStart && origins.Count > 0 && origins.TryGet(key, HashOf(i), out var earlier))
                    {
                        origin[i] = earlier;
                    }
                    else
                    {
                        origin[i] = (firstStep[i], firstTimestamp[i]);
                    }

                    keys[i] = new SeriesOrderKey(firstStep[i], origin[i].Step, origin[i].Timestamp);
                    activationSeries[i] = i;
                }

                // In time order per series, so each series' origin ends as its last run's.
                for (var r = 0; r < resumes.Count; r++)
                {
                    var (step, timestamp, id) = resumes[r];
                    keys[n + r] = new SeriesOrderKey(step, step, timestamp);
                    activationSeries[n + r] = id;
                    origin[id] = (step, timestamp);
                }

                if (resumes.Count > 0)
                {
                    // What a resume adds to the slice while it is held: its place in the two activation columns. The keys
                    // and the list are gone once the slice is built, as are the series' own scratch arrays.
                    var bytes = resumes.Count * 2L * sizeof(int);
                    _memory?.Reserve(bytes);
                    _reserved += bytes;
                }

                var order = Activations = shelf.Take<int>(events);
                var activationStep = ActivationStep = shelf.Take<int>(events);
                ActivationCount = events;
                SortByKeyThenLabels(keys, this, activationSeries, order, events, shelf);
                for (var i = 0; i < events; i++)
                {
                    order[i] = activationSeries[order[i]];
                    activationStep[i] = keys[i].FirstStep;
                }
            }
            finally
            {
                shelf.Put(firstTimestamp);
                shelf.Put(segments);
                shelf.Put(keys);
                shelf.Put(activationSeries);
            }
        }

        /// <summary>
        /// Where series pause within the slice and come back: for each step whose window is empty between two that are not,
        /// the step after it and the first sample there, per series in time order. Consecutive samples further apart than
        /// a range are the only candidates, so this costs a comparison per sample.
        /// </summary>
        private List<(int Step, long Timestamp, int Series)> FindResumes(WindowCells cells, bool countOnly)
        {
            var resumes = new List<(int Step, long Timestamp, int Series)>();
            for (var id = 0; id < Count; id++)
            {
                var from = _start[id];
                var to = _start[id + 1];
                if (countOnly)
                {
                    // Runs by first step; a run beginning past every earlier run's end follows an empty window.
                    var covered = to > from ? _byFirst[from].EndStep : 0;
                    for (var r = from + 1; r < to; r++)
                    {
                        var run = _byFirst[r];
                        if (run.FirstStep > covered)
                        {
                            var timestamp = run.FirstTimestamp;
                            while (r + 1 < to && _byFirst[r + 1].FirstStep == run.FirstStep)
                            {
                                timestamp = Math.Min(timestamp, _byFirst[++r].FirstTimestamp);
                                covered = Math.Max(covered, _byFirst[r].EndStep);
                            }

                            resumes.Add((run.FirstStep, timestamp, id));
                        }

                        covered = Math.Max(covered, run.EndStep);
                    }

                    continue;
                }

                for (var j = from + 1; j < to; j++)
                {
                    // A window empty between two samples lies a range after the first and before the second.
                    if (Timestamps[j] - Timestamps[j - 1] > cells.Range)
                    {
                        cells.MoveTo(Timestamps[j - 1]);
                        var covered = cells.EndStep;
                        cells.MoveTo(Timestamps[j]);
                        if (cells.FirstStep > covered)
                        {
                            resumes.Add((cells.FirstStep, Timestamps[j], id));
                        }
                    }
                }
            }

            return resumes;
        }

        /// <summary>
        /// Fills <paramref name="order"/> with the first <paramref name="n"/> indices of <paramref name="keys"/> in their order
        /// (it reorders the keys), ties by the labels of the series <paramref name="seriesOf"/> gives each: sorting on plain
        /// keys and comparing labels only within runs of equal keys keeps the sort cheap when every line is a series.
        /// </summary>
        private static void SortByKeyThenLabels(SeriesOrderKey[] keys, SliceSeries names, int[] seriesOf, int[] order, int n, ArrayShelf shelf)
        {
            for (var i = 0; i < n; i++)
            {
                order[i] = i;
            }

            SortByKey(keys, order, n, shelf);
            SeriesLabelOrder? byLabels = null;
            for (var start = 0; start < n;)
            {
                var end = start + 1;
                while (end < n && keys[end].Equals(keys[start]))
                {
                    end++;
                }

                if (end - start > 1)
                {
                    byLabels ??= new SeriesLabelOrder(names, seriesOf);
                    Array.Sort(order, start, end - start, byLabels);
                }

                start = end;
            }
        }

        /// <summary>
        /// Sorts the first <paramref name="n"/> keys with their ids. Series are numbered as the workers met them, cursor
        /// by cursor and in time within a cursor, so the keys are mostly a few ascending runs (about one per cursor):
        /// those are merged, in about n·log(runs) cheap steps instead of a full sort's n·log(n). Keys in no such
        /// order are sorted whole. Equal keys may end in any order (the caller orders them by labels).
        /// </summary>
        private static void SortByKey(SeriesOrderKey[] keys, int[] order, int n, ArrayShelf shelf)
        {
            var runs = new List<int> { 0 };
            for (var i = 1; i < n; i++)
            {
                if (keys[i].CompareTo(keys[i - 1]) < 0)
                {
                    runs.Add(i);
                    if (runs.Count > MaxMergedRuns)
                    {
                        Array.Sort(keys, order, 0, n);
                        return;
                    }
                }
            }

            if (runs.Count == 1)
            {
                return;
            }

            runs.Add(n);
            var keysFrom = keys;
            var orderFrom = order;
            var keysTo = shelf.Take<SeriesOrderKey>(n);
            var orderTo = shelf.Take<int>(n);
            var spareKeys = keysTo;
            var spareOrder = orderTo;
            while (runs.Count > 2)
            {
                // Merges neighbouring runs pairwise, halving their number, between the arrays and their spares in turn.
                var merged = new List<int>((runs.Count / 2) + 2);
                var r = 0;
                for (; r + 2 < runs.Count; r += 2)
                {
                    merged.Add(runs[r]);
                    Merge(keysFrom, orderFrom, keysTo, orderTo, runs[r], runs[r + 1], runs[r + 2]);
                }

                if (r + 1 < runs.Count)
                {
                    merged.Add(runs[r]);
                    Array.Copy(keysFrom, runs[r], keysTo, runs[r], runs[r + 1] - runs[r]);
                    Array.Copy(orderFrom, runs[r], orderTo, runs[r], runs[r + 1] - runs[r]);
                }

                merged.Add(n);
                runs = merged;
                (keysFrom, keysTo) = (keysTo, keysFrom);
                (orderFrom, orderTo) = (orderTo, orderFrom);
            }

            if (!ReferenceEquals(keysFrom, keys))
            {
                Array.Copy(keysFrom, keys, n);
                Array.Copy(orderFrom, order, n);
            }

            shelf.Put(spareKeys);
            shelf.Put(spareOrder);
        }

        private static void Merge(SeriesOrderKey[] keys, int[] order, SeriesOrderKey[] keysTo, int[] orderTo, int from, int middle, int end)
        {
            int a = from, b = middle, to = from;
            while (a < middle && b < end)
            {
                if (keys[b].CompareTo(keys[a]) < 0)
                {
                    keysTo[to] = keys[b];
                    orderTo[to++] = order[b++];
                }
                else
                {
                    keysTo[to] = keys[a];
                    orderTo[to++] = order[a++];
                }
            }

            Array.Copy(keys, a, keysTo, to, middle - a);
            Array.Copy(order, a, orderTo, to, middle - a);
            to += middle - a;
            Array.Copy(keys, b, keysTo, to, end - b);
            Array.Copy(order, b, orderTo, to, end - b);
        }

        /// <summary>
        /// For series fed by several segments, ranks the segments by sample labels then cursor order: the order in
        /// which their samples at one timestamp are folded, as Loki's sample heap orders them.
        /// </summary>
        private static void RankSharedSegments(SliceLog[] logs, int[][] localToGlobal, int[] segments, int n)
        {
            if (segments.AsSpan(0, n).IndexOfAnyExcept(0, 1) < 0)
            {
                return;
            }

            var shared = new List<(int Series, string Labels, int Cursor, int Worker, int Segment)>();
            for (var w = 0; w < logs.Length; w++)
            {
                var log = logs[w];
                for (var s = 0; s < log.SegmentSeries.Count; s++)
                {
                    var id = localToGlobal[w][log.SegmentSeries[s]];
                    if (segments[id] > 1)
                    {
                        shared.Add((id, log.SegmentText(s), log.SegmentCursor[s], w, s));
                    }
                }
            }

            if (shared.Count == 0)
            {
                return;
            }

            shared.Sort(static (a, b) =>
            {
                var c = a.Series.CompareTo(b.Series);
                if (c == 0)
                {
                    c = string.CompareOrdinal(a.Labels, b.Labels);
                }

                return c != 0 ? c : a.Cursor.CompareTo(b.Cursor);
            });
            var rank = 0;
            for (var i = 0; i < shared.Count; i++)
            {
                rank = i > 0 && shared[i].Series == shared[i - 1].Series ? rank + 1 : 0;
                logs[shared[i].Worker].SegmentRank[shared[i].Segment] = rank;
            }
        }

        private void Gather(SliceLog[] logs, int[][] localToGlobal, int[] segments, int n, int total, bool countOnly)
        {
            var shelf = _shelf!;
            var fill = shelf.Take<int>(n + 1);
            _start.AsSpan(0, n + 1).CopyTo(fill);
            var ranks = shelf.Take<int>(total);
            if (countOnly)
            {
                _byFirst = shelf.Take<Run>(total);
            }
            else
            {
                Timestamps = shelf.Take<long>(total);
                Values = shelf.Take<double>(total);
            }

            for (var w = 0; w < logs.Length; w++)
            {
                var log = logs[w];
                var map = localToGlobal[w];
                for (var r = 0; r < log.RecordCount; r++)
                {
                    var segment = log.RecordSegment[r];
                    var at = fill[map[log.SegmentSeries[segment]]]++;
                    ranks[at] = log.SegmentRank[segment];
                    if (countOnly)
                    {
                        _byFirst[at] = log.Runs[r];
                    }
                    else
                    {
                        Timestamps[at] = log.Timestamps[r];
                        Values[at] = log.Values[r];
                    }
                }
            }

            if (countOnly)
            {
                _byEnd = shelf.Take<Run>(total);
                _byFirst.AsSpan(0, total).CopyTo(_byEnd);
            }

            for (var id = 0; id < n; id++)
            {
                // One segment's records are already in time order (so in window order); only shared series are merged.
                if (segments[id] > 1)
                {
                    MergeSegments(id, ranks, countOnly);
                }

                _cursorA[id] = _cursorB[id] = _start[id];
            }

            shelf.Put(ranks);
            shelf.Put(fill);
        }

        /// <summary>Runs by their series' labels, for ties of <see cref="SeriesOrderKey"/>.</summary>
        private sealed class SeriesLabelOrder(SliceSeries names, int[] seriesOf) : IComparer<int>
        {
            public int Compare(int x, int y) => LabelOrder.Compare(names.KeyOf(seriesOf[x]), names.KeyOf(seriesOf[y]));
        }

        /// <summary>Gives the slice's arrays back to the shelf; the series must not be read afterwards.</summary>
        public void Release()
        {
            if (ReferenceEquals(this, Empty))
            {
                return;
            }

            var shelf = _shelf!;
            shelf.Put(Timestamps);
            shelf.Put(Values);
            shelf.Put(_byFirst);
            shelf.Put(_byEnd);
            shelf.Put(Labels);
            shelf.Put(_keyLog);
            shelf.Put(_keyLocal);
            _logs = [];
            _keyLog = _keyLocal = [];
            shelf.Put(FirstStep);
            shelf.Put(EndStep);
            shelf.Put(Activations);
            shelf.Put(ActivationStep);
            shelf.Put(Origin);
            shelf.Put(_start);
            shelf.Put(_cursorA);
            shelf.Put(_cursorB);
            shelf.Put(_counts);
            Timestamps = [];
            Values = [];
            _byFirst = _byEnd = [];
            Labels = [];
            FirstStep = EndStep = Activations = ActivationStep = _start = _cursorA = _cursorB = [];
            ActivationCount = 0;
            Origin = [];
            _counts = [];
            Count = 0;
            _memory?.Release(_reserved);
            _reserved = 0;
        }

        private void MergeSegments(int id, int[] ranks, bool countOnly)
        {
            var from = _start[id];
            var length = _start[id + 1] - from;
            if (countOnly)
            {
                Array.Sort(_byFirst, from, length, RunComparer.ByFirst);
                Array.Sort(_byEnd, from, length, RunComparer.ByEnd);
                return;
            }

            // Stable by time, then segment rank; equal keys come from one segment, already in its order.
            var keys = new (long Timestamp, int Rank, int Position)[length];
            var values = new double[length];
            for (var i = 0; i < length; i++)
            {
                keys[i] = (Timestamps[from + i], ranks[from + i], i);
                values[i] = Values[from + i];
            }

            Array.Sort(keys);
            for (var i = 0; i < length; i++)
            {
                Timestamps[from + i] = keys[i].Timestamp;
                Values[from + i] = values[keys[i].Position];
            }
        }
    }

    /// <summary>Where a run of non-empty windows goes among a slice's: its first step in the slice, then its first step and sample in the query.</summary>
    private readonly record struct SeriesOrderKey(int FirstStep, int OriginStep, long OriginTimestamp) : IComparable<SeriesOrderKey>
    {
        public int CompareTo(SeriesOrderKey other)
        {
            var c = FirstStep.CompareTo(other.FirstStep);
            if (c == 0)
            {
                c = OriginStep.CompareTo(other.OriginStep);
            }

            return c != 0 ? c : OriginTimestamp.CompareTo(other.OriginTimestamp);
        }
    }

    private sealed class RunComparer(bool byEnd) : IComparer<Run>
    {
        public static RunComparer ByFirst { get; } = new(false);

        public static RunComparer ByEnd { get; } = new(true);

        public int Compare(Run x, Run y) => byEnd ? x.EndStep.CompareTo(y.EndStep) : x.FirstStep.CompareTo(y.FirstStep);
    }
}
