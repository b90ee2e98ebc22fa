using System.Runtime.InteropServices;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary>
/// <c>sum avg min max count stddev stdvar topk bottomk sort sort_desc</c> (and <c>approx_topk</c>, computed exactly)
/// over each step's vector, grouped by <c>by</c>/<c>without</c>, with Loki's per-operator arithmetic.
/// </summary>
internal sealed class VectorAggregationEvaluator : StepEvaluator
{
    private const int GroupCacheLimit = 65_536;
    private const int MaxProbedGroups = 16;

    private static readonly Func<VectorSample, VectorSample, bool> ByValue =
        static (a, b) => double.IsNaN(a.Value) || a.Value < b.Value;

    private static readonly Func<VectorSample, VectorSample, bool> ByReverseValue =
        static (a, b) => double.IsNaN(a.Value) || a.Value > b.Value;

    private readonly StepEvaluator _inner;
    private readonly VectorOp _op;
    private readonly int _k;
    private readonly Func<LabelSet, LabelSet> _groupOf;
    // Each series' key number by its labels (bounded), so a known series costs one lookup per step without a numbering
    // inner evaluator, and one per slice with one.
    private readonly Dictionary<LabelSet, int> _seriesKeyNumbers = [];
    // The group labels met so far, numbered, and each one's group in the current step (null when it has none yet).
    private readonly Dictionary<LabelSet, int> _keyNumbers = [];
    private readonly List<LabelSet> _keys = [];
    private readonly List<Group?> _keyGroups = [];
    // With a numbering inner evaluator: each series' key number (-1 when not derived yet) in the epoch _seriesEpoch.
    private readonly ISeriesNumbering? _numbering;
    private int[] _seriesKeys = [];
    private int _seriesEpoch = -1;
    private readonly List<Group> _order = [];
    private readonly List<VectorSample> _vector = [];
    // For "by" groupings: the grouped names, and the current sample's values of them (null when absent).
    private readonly string[]? _byNames;
    private readonly string?[] _probe = [];

    public VectorAggregationEvaluator(VectorAggregationExpr expr, StepEvaluator inner)
    {
        _inner = inner;
        _numbering = inner as ISeriesNumbering;
        _op = expr.Op == VectorOp.ApproxTopk ? VectorOp.Topk : expr.Op;
        _k = expr.Parameter;
        _groupOf = LabelSets.VectorGrouping(expr.Grouping);
        if (expr.Grouping is { Without: false, Labels.IsEmpty: false } by)
        {
            _byNames = [.. new SortedSet<string>(by.Labels, StringComparer.Ordinal)];
            _probe = new string?[_byNames.Length];
        }
    }

    public override bool Next(out long timestampMs, out List<VectorSample> vector)
    {
        vector = _vector;
        _vector.Clear();
        if (!_inner.Next(out timestampMs, out var input))
        {
            return false;
        }

        if (_op is VectorOp.Topk or VectorOp.Bottomk && _k < 1)
        {
            return true;
        }

        _order.Clear();
        var numbers = NumbersOf(input);
        for (var i = 0; i < input.Count; i++)
        {
            var sample = input[i];
            int key;
            if (numbers is null)
            {
                key = SeriesKeyNumberOf(sample.Labels);
            }
            else
            {
                ref var known = ref _seriesKeys[numbers[i]];
                if (known < 0)
                {
                    // Numbers restart with each slice of the inner evaluator: a series met in an earlier slice is found by
                    // its labels, not derived again (a new group label set per series and slice).
                    known = FindByProbe(sample.Labels) is var probed and >= 0 ? probed : SeriesKeyNumberOf(sample.Labels);
                }

                key = known;
            }

            var group = _keyGroups[key];
            if (group is null)
            {
                group = new Group(_keys[key], key, sample.Value);
                _keyGroups[key] = group;
                _order.Add(group);
                Start(group, sample);
                continue;
            }

            Accumulate(group, sample);
        }

        foreach (var group in _order)
        {
            Emit(group, timestampMs);
            _keyGroups[group.KeyNumber] = null;
        }

        return true;
    }

    /// <summary>
    /// The series numbers of <paramref name="input"/> when the inner evaluator gives them (null otherwise), with the
    /// per-series key numbers reset when its numbering changed; the key table is emptied first when it grew too large.
    /// </summary>
    private List<int>? NumbersOf(List<VectorSample> input)
    {
        if (_keys.Count >= GroupCacheLimit)
        {
            // Bounded so that high-cardinality groupings cannot grow the table without limit; numbers derived from it go too.
            _keys.Clear();
            _keyNumbers.Clear();
            _keyGroups.Clear();
            _seriesKeyNumbers.Clear();
            _seriesEpoch = -1;
        }

        var numbers = _numbering?.VectorSeries;
        if (numbers is null || numbers.Count != input.Count)
        {
            return null;
        }

        if (_seriesEpoch != _numbering!.SeriesEpoch)
        {
            var count = _numbering.SeriesCount;
            if (_seriesKeys.Length < count)
            {
                _seriesKeys = new int[Math.Max(count, _seriesKeys.Length * 2)];
            }

            _seriesKeys.AsSpan(0, count).Fill(-1);
            _seriesEpoch = _numbering.SeriesEpoch;
        }

        return numbers;
    }

    /// <summary>
    /// The key number of a series, remembered per series (bounded): one lookup for a series met before, whether the inner
    /// evaluator does not number its series or numbered it anew in a later slice.
    /// </summary>
    private int SeriesKeyNumberOf(LabelSet labels)
    {
        if (_seriesKeyNumbers.TryGetValue(labels, out var number))
        {
            return number;
        }

        // Bounded so that high-cardinality inputs cannot grow the table without limit.
        if (_seriesKeyNumbers.Count >= GroupCacheLimit)
        {
            _seriesKeyNumbers.Clear();
        }

        number = KeyNumberOf(labels);
        _seriesKeyNumbers.Add(labels, number);
        return number;
    }

    /// <summary>
    /// The number of the group labels of a sample's <paramref name="labels"/>, numbering them when new. Not remembered
    /// per series: callers do that (by series number or in <see cref="_seriesKeyNumbers"/>).
    /// </summary>
    private int KeyNumberOf(LabelSet labels)
    {
        var found = FindByProbe(labels);
        if (found >= 0)
        {
            return found;
        }

        var key = _groupOf(labels);
        ref var number = ref CollectionsMarshal.GetValueRefOrAddDefault(_keyNumbers, key, out var exists);
        if (!exists)
        {
            number = _keys.Count;
            _keys.Add(key);
            _keyGroups.Add(null);
        }

        return number;
    }

    public override void Dispose() => _inner.Dispose();

    /// <summary>
    /// For a "by" grouping into few groups per step, the number of the step's group whose labels hold the sample's values
    /// of the grouped names, found by comparing those values: many series (a parser's labels) would otherwise each
    /// derive and hash their group's labels. -1 when not found this way (the caller then looks the group up by its
    /// labels), so a query whose groups over time are many but per step few keeps probing.
    /// </summary>
    private int FindByProbe(LabelSet labels)
    {
        if (_byNames is null || _order.Count > MaxProbedGroups)
        {
            return -1;
        }

        for (var i = 0; i < _byNames.Length; i++)
        {
            _probe[i] = labels.Get(_byNames[i]);
        }

        foreach (var group in _order)
        {
            if (HasProbedValues(group.Labels))
            {
                return group.KeyNumber;
            }
        }

        return -1;
    }

    // Whether a group's labels (the grouped names present, sorted like _byNames) hold exactly the probed values.
    private bool HasProbedValues(LabelSet key)
    {
        var pairs = key.AsSpan();
        var j = 0;
        for (var i = 0; i < _byNames!.Length; i++)
        {
            var value = _probe[i];
            if (j < pairs.Length && string.Equals(pairs[j].Name, _byNames[i], StringComparison.Ordinal))
            {
                if (value is null || !(ReferenceEquals(pairs[j].Value, value) || string.Equals(pairs[j].Value, value, StringComparison.Ordinal)))
                {
                    return false;
                }

                j++;
            }
            else if (value is not null)
            {
                return false;
            }
        }

        return j == pairs.Length;
    }

    private void Start(Group group, VectorSample sample)
    {
        switch (_op)
        {
            case VectorOp.Stddev or VectorOp.Stdvar:
                group.Value = 0;
                break;
            case VectorOp.Topk or VectorOp.SortDesc:
                group.Heap = [];
                GoSorting.HeapPush(group.Heap, sample, ByValue);
                break;
            case VectorOp.Bottomk or VectorOp.Sort:
                group.Heap = [];
                GoSorting.HeapPush(group.Heap, sample, ByReverseValue);
                break;
        }
    }

    private void Accumulate(Group group, VectorSample sample)
    {
        var value = sample.Value;
        switch (_op)
        {
            case VectorOp.Sum:
                group.Value += value;
                break;
            case VectorOp.Avg:
                group.Count++;

                // An infinite mean stays as it is under same-sign infinities and finite values (else Inf - Inf = NaN).
                if (double.IsInfinity(group.Mean))
                {
                    if (double.IsInfinity(value) && (group.Mean > 0) == (value > 0))
                    {
                        break;
                    }

                    if (!double.IsInfinity(value) && !double.IsNaN(value))
                    {
                        break;
                    }
                }

                group.Mean += (value - group.Mean) / group.Count;
                break;
            case VectorOp.Max:
                if (group.Value < value || double.IsNaN(group.Value))
                {
                    group.Value = value;
                }

                break;
            case VectorOp.Min:
                if (group.Value > value || double.IsNaN(group.Value))
                {
                    group.Value = value;
                }

                break;
            case VectorOp.Count:
                group.Count++;
                break;
            case VectorOp.Stddev or VectorOp.Stdvar:
                group.Count++;
                var delta = value - group.Mean;
                group.Mean += delta / group.Count;
                group.Value += delta * (value - group.Mean);
                break;
            case VectorOp.Topk:
                var top = group.Heap!;
                if (top.Count < _k || top[0].Value < value || double.IsNaN(top[0].Value))
                {
                    if (top.Count == _k)
                    {
                        GoSorting.HeapPop(top, ByValue);
                    }

                    GoSorting.HeapPush(top, sample, ByValue);
                }

                break;
            case VectorOp.Bottomk:
                var bottom = group.Heap!;
                if (bottom.Count < _k || bottom[0].Value > value || double.IsNaN(bottom[0].Value))
                {
                    if (bottom.Count == _k)
                    {
                        GoSorting.HeapPop(bottom, ByReverseValue);
                    }

                    GoSorting.HeapPush(bottom, sample, ByReverseValue);
                }

                break;
            case VectorOp.SortDesc:
                GoSorting.HeapPush(group.Heap!, sample, ByValue);
                break;
            case VectorOp.Sort:
                GoSorting.HeapPush(group.Heap!, sample, ByReverseValue);
                break;
        }
    }

    private void Emit(Group group, long timestampMs)
    {
        double value;
        switch (_op)
        {
            case VectorOp.Avg:
                value = group.Mean;
                break;
            case VectorOp.Count:
                value = group.Count;
                break;
            case VectorOp.Stddev:
                value = Math.Sqrt(group.Value / group.Count);
                break;
            case VectorOp.Stdvar:
                value = group.Value / group.Count;
                break;
            case VectorOp.Topk or VectorOp.SortDesc:
                EmitHeap(group.Heap!, static (a, b) => ByValue(b, a), timestampMs);
                return;
            case VectorOp.Bottomk or VectorOp.Sort:
                EmitHeap(group.Heap!, static (a, b) => ByReverseValue(b, a), timestampMs);
                return;
            default:
                value = group.Value;
                break;
        }

        _vector.Add(new VectorSample(group.Labels, timestampMs, value));
    }

    private void EmitHeap(List<VectorSample> heap, Func<VectorSample, VectorSample, bool> less, long timestampMs)
    {
        // The heap keeps the weakest element on top; Loki sorts it in reverse to emit the strongest first.
        GoSorting.Sort(heap, less);
        foreach (var sample in heap)
        {
            _vector.Add(sample with { TimestampMs = timestampMs });
        }
    }

    private sealed class Group(LabelSet labels, int keyNumber, double first)
    {
        public LabelSet Labels { get; } = labels;

        public int KeyNumber { get; } = keyNumber;

        public double Value { get; set; } = first;

        public double Mean { get; set; } = first;

        public int Count { get; set; } = 1;

        public List<VectorSample>? Heap { get; set; }
    }
}
