using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary>
/// Two vectors combined step by step with Loki's vector matching: signatures from all labels, <c>on(...)</c> or
/// <c>ignoring(...)</c>; one-to-one, <c>group_left</c> or <c>group_right</c>; and the set operators.
/// </summary>
internal sealed class VectorBinaryEvaluator : StepEvaluator
{
    private readonly BinaryOp _op;
    private readonly BinaryOpModifier _modifier;
    private readonly StepEvaluator _left;
    private readonly StepEvaluator _right;
    private readonly HashSet<string> _matchingLabels;
    private readonly List<VectorSample> _vector = [];

    public VectorBinaryEvaluator(BinaryOpExpr expr, StepEvaluator left, StepEvaluator right)
    {
        _op = expr.Op;
        _modifier = expr.Modifier;
        _left = left;
        _right = right;
        _matchingLabels = new HashSet<string>(expr.Modifier.MatchingLabels, StringComparer.Ordinal);
    }

    public override bool Next(out long timestampMs, out List<VectorSample> vector)
    {
        vector = _vector;
        _vector.Clear();

        // Loki advances the right leg first.
        if (!_right.Next(out _, out var rhs) || !_left.Next(out timestampMs, out var lhs))
        {
            timestampMs = 0;
            return false;
        }

        switch (_op)
        {
            case BinaryOp.And:
                And(lhs, rhs);
                break;
            case BinaryOp.Or:
                Or(lhs, rhs);
                break;
            case BinaryOp.Unless:
                Unless(lhs, rhs);
                break;
            default:
                Arithmetic(lhs, rhs);
                break;
        }

        return true;
    }

    public override void Dispose()
    {
        _left.Dispose();
        _right.Dispose();
    }

    /// <summary>The labels two samples are matched on.</summary>
    internal LabelSet Signature(LabelSet labels)
    {
        if (_modifier.On)
        {
            return LabelSets.Keep(labels, _matchingLabels);
        }

        return _matchingLabels.Count == 0 ? labels : LabelSets.Drop(labels, _matchingLabels);
    }

    private HashSet<LabelSet> Signatures(List<VectorSample> samples)
    {
        var set = new HashSet<LabelSet>(samples.Count);
        foreach (var sample in samples)
        {
            set.Add(Signature(sample.Labels));
        }

        return set;
    }

    private void And(List<VectorSample> lhs, List<VectorSample> rhs)
    {
        if (lhs.Count == 0 || rhs.Count == 0)
        {
            return;
        }

        var right = Signatures(rhs);
        foreach (var sample in lhs)
        {
            if (right.Contains(Signature(sample.Labels)))
            {
                _vector.Add(sample);
            }
        }
    }

    private void Or(List<VectorSample> lhs, List<VectorSample> rhs)
    {
        if (lhs.Count == 0 || rhs.Count == 0)
        {
            _vector.AddRange(lhs.Count == 0 ? rhs : lhs);
            return;
        }

        var left = Signatures(lhs);
        _vector.AddRange(lhs);
        foreach (var sample in rhs)
        {
            if (!left.Contains(Signature(sample.Labels)))
            {
                _vector.Add(sample);
            }
        }
    }

    private void Unless(List<VectorSample> lhs, List<VectorSample> rhs)
    {
        if (lhs.Count == 0 || rhs.Count == 0)
        {
            _vector.AddRange(lhs);
            return;
        }

        var right = Signatures(rhs);
        foreach (var sample in lhs)
        {
            if (!right.Contains(Signature(sample.Labels)))
            {
                _vector.Add(sample);
            }
        }
    }

    private void Arithmetic(List<VectorSample> lhs, List<VectorSample> rhs)
    {
        var card = _modifier.Card;

        // One-to-many is matched as many-to-one with the sides swapped, then swapped back to compute.
        var (many, one) = card == VectorMatchCardinality.OneToMany ? (rhs, lhs) : (lhs, rhs);
        var oneBySignature = new Dictionary<LabelSet, VectorSample>(one.Count);
        foreach (var sample in one)
        {
            if (!oneBySignature.TryAdd(Signature(sample.Labels), sample))
            {
                var side = card == VectorMatchCardinality.OneToMany ? "left" : "right";
                throw new MetricQueryException(MetricQueryErrorKind.Execution,
                    $"found duplicate series on the {side} hand-side;many-to-many matching not allowed: matching labels must be unique on one side");
            }
        }

        var matched = new Dictionary<LabelSet, HashSet<LabelSet>?>();
        var comparison = BinaryOpExpr.IsComparison(_op);
        foreach (var manySample in many)
        {
            var signature = Signature(manySample.Labels);
            if (!oneBySignature.TryGetValue(signature, out var oneSample))
            {
                continue;
            }

            var metric = ResultLabels(manySample.Labels, oneSample.Labels);
            if (card == VectorMatchCardinality.OneToOne)
            {
                if (!matched.TryAdd(signature, null))
                {
                    throw new MetricQueryException(MetricQueryErrorKind.Execution,
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)");
                }
            }
            else
            {
                if (!matched.TryGetValue(signature, out var inserted))
                {
                    inserted = [];
                    matched.Add(signature, inserted);
                }

                if (!inserted!.Add(metric))
                {
                    throw new MetricQueryException(MetricQueryErrorKind.Execution,
                        "multiple matches for labels: grouping labels must ensure unique matches");
                }
            }

            var (left, right) = card == VectorMatchCardinality.OneToMany ? (oneSample, manySample) : (manySample, oneSample);
            if (comparison && !_modifier.ReturnBool)
            {
                // A passing comparison keeps the left operand's value.
                if (BinaryArithmetic.Compare(_op, left.Value, right.Value))
                {
                    _vector.Add(new VectorSample(metric, left.TimestampMs, left.Value));
                }

                continue;
            }

            _vector.Add(new VectorSample(metric, left.TimestampMs, BinaryArithmetic.Apply(_op, left.Value, right.Value)));
        }
    }

    /// <summary>
    /// Loki's <c>resultMetric</c>: one-to-one keeps the <c>on</c> labels or drops the <c>ignoring</c> ones; grouped
    /// matching keeps the "many" side's labels; <c>group_x(...)</c> labels are copied from the "one" side, or removed
    /// when it lacks them.
    /// </summary>
    private LabelSet ResultLabels(LabelSet many, LabelSet one)
    {
        var labels = many;
        if (_modifier.Card == VectorMatchCardinality.OneToOne)
        {
            labels = _modifier.On ? LabelSets.Keep(many, _matchingLabels) : LabelSets.Drop(many, _matchingLabels);
        }

        if (_modifier.Include.IsEmpty)
        {
            return labels;
        }

        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in labels.AsSpan())
        {
            pairs[pair.Name] = pair.Value;
        }

        foreach (var name in _modifier.Include)
        {
            var value = one.Get(name);
            if (!string.IsNullOrEmpty(value))
            {
                pairs[name] = value;
            }
            else
            {
                pairs.Remove(name);
            }
        }

        return LabelSet.From(pairs.Select(static p => new LabelPair(p.Key, p.Value)));
    }
}
