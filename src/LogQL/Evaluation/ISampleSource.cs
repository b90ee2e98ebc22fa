namespace LokiSharp.LogQL.Evaluation;

/// <summary>
/// Supplies samples for the leaves of a metric query. The querier implements it from storage and the log pipeline;
/// tests implement it from literal series.
/// </summary>
public interface ISampleSource
{
    /// <summary>
    /// Opens cursors for a selection. Each cursor must be in non-decreasing time order; cursors may overlap in time
    /// and share series (the evaluator merges them). Cursors must be independent: the evaluator reads different
    /// cursors on different threads at the same time (each cursor on one thread at a time) and disposes every
    /// cursor it receives, on whichever thread read it.
    /// </summary>
    IReadOnlyList<ISampleCursor> Select(SampleSelection selection, CancellationToken cancellationToken);
}
