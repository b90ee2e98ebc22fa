using LokiSharp.LogQL.Ast;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary>
/// A vector combined with a scalar literal on either side: per sample, labels kept. Comparisons without <c>bool</c>
/// keep the samples that pass with the vector's own value; with <c>bool</c> they give 1 or 0.
/// </summary>
internal sealed class LiteralBinaryEvaluator(BinaryOp op, double literal, bool literalOnLeft, bool returnBool, StepEvaluator inner) : StepEvaluator
{
    private readonly List<VectorSample> _vector = [];

    public override bool Next(out long timestampMs, out List<VectorSample> vector)
    {
        vector = _vector;
        _vector.Clear();
        if (!inner.Next(out timestampMs, out var input))
        {
            return false;
        }

        var comparison = BinaryOpExpr.IsComparison(op);
        foreach (var sample in input)
        {
            var left = literalOnLeft ? literal : sample.Value;
            var right = literalOnLeft ? sample.Value : literal;
            if (comparison && !returnBool)
            {
                if (BinaryArithmetic.Compare(op, left, right))
                {
                    _vector.Add(sample with { TimestampMs = timestampMs });
                }

                continue;
            }

            _vector.Add(new VectorSample(sample.Labels, timestampMs, BinaryArithmetic.Apply(op, left, right)));
        }

        return true;
    }

    public override void Dispose() => inner.Dispose();
}
