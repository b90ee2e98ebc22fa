namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary>
/// A step evaluator that can name the series of each sample it returns by a small number, so an aggregation above it
/// can remember per series what it derives from the labels (its group) instead of reading the labels at every step:
/// when every line is its own series, those label sets are many and cold in the cache.
/// </summary>
internal interface ISeriesNumbering
{
    /// <summary>
    /// The series number of each sample of the vector the last <see cref="StepEvaluator.Next"/> returned (in the same
    /// order), each below <see cref="SeriesCount"/>; null when that vector's samples are not numbered.
    /// </summary>
    List<int>? VectorSeries { get; }

    /// <summary>Changes whenever numbers are given to other series: what was remembered per number no longer holds.</summary>
    int SeriesEpoch { get; }

    /// <summary>How many numbers the current epoch uses.</summary>
    int SeriesCount { get; }
}
