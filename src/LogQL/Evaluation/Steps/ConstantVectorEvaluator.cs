using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary><c>vector(s)</c> inside an expression: one label-less sample per step, stepped in milliseconds as Loki does.</summary>
internal sealed class ConstantVectorEvaluator : StepEvaluator
{
    private readonly double _value;
    private readonly long _stepMs;
    private readonly long _endMs;
    private readonly List<VectorSample> _vector = [];
    private long _currentMs;

    public ConstantVectorEvaluator(double value, MetricQueryParameters parameters)
    {
        _value = value;
        var stepMs = parameters.StepNs / 1_000_000;
        _stepMs = stepMs == 0 ? 1 : stepMs;
        _endMs = MetricQueryEvaluator.UnixMilli(parameters.EndNs);
        _currentMs = MetricQueryEvaluator.UnixMilli(parameters.StartNs) - _stepMs;
    }

    public override bool Next(out long timestampMs, out List<VectorSample> vector)
    {
        vector = _vector;
        _vector.Clear();
        _currentMs += _stepMs;
        timestampMs = _currentMs;
        if (_currentMs > _endMs)
        {
            return false;
        }

        _vector.Add(new VectorSample(LabelSet.Empty, _currentMs, _value));
        return true;
    }
}
