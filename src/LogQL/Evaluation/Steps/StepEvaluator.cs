namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary>
/// Produces one instant vector per evaluation step, oldest step first, like Loki's <c>StepEvaluator</c>. Failures are
/// thrown as <see cref="MetricQueryException"/> at the step where Loki would report them.
/// </summary>
internal abstract class StepEvaluator : IDisposable
{
    /// <summary>
    /// Advances to the next step. The returned list belongs to this evaluator and is only valid until the next call.
    /// </summary>
    public abstract bool Next(out long timestampMs, out List<VectorSample> vector);

    public virtual void Dispose()
    {
    }
}
