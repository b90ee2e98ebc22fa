using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation;

/// <summary>A cursor over one series held in memory, for tests and for sources that materialise series.</summary>
public sealed class SeriesSampleCursor : ISampleCursor
{
    private readonly IReadOnlyList<(long TimestampNs, double Value)> _points;
    private readonly long _startExclusiveNs;
    private readonly long _endInclusiveNs;
    private int _index = -1;

    /// <summary>Creates a cursor over <paramref name="points"/> (ascending time) restricted to <c>(startExclusiveNs, endInclusiveNs]</c>.</summary>
    public SeriesSampleCursor(LabelSet labels, IReadOnlyList<(long TimestampNs, double Value)> points,
        long startExclusiveNs = long.MinValue, long endInclusiveNs = long.MaxValue)
    {
        Labels = labels;
        _points = points;
        _startExclusiveNs = startExclusiveNs;
        _endInclusiveNs = endInclusiveNs;
    }

    /// <inheritdoc />
    public LabelSet Labels { get; }

    /// <inheritdoc />
    public long TimestampNs => _points[_index].TimestampNs;

    /// <inheritdoc />
    public double Value => _points[_index].Value;

    /// <inheritdoc />
    public bool MoveNext()
    {
        while (++_index < _points.Count)
        {
            var ts = _points[_index].TimestampNs;
            if (ts > _endInclusiveNs)
            {
                _index = _points.Count;
                return false;
            }

            if (ts > _startExclusiveNs)
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
